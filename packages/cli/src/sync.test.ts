// Block sync: a validator that was down for more blocks than one sync batch (50) fetches
// them from its peers in several rounds, verifying each commit, and ends on the same chain.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { HOME_FILES, initNetwork } from '@medledger/node';
import { freePorts, get, newSigner, post, TEST_PASSPHRASE, waitFor } from '@medledger/node/testing';
import { type RunningNode, startNodeProcess, stopNodes } from './network.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-sync-'));
const running: RunningNode[] = [];
after(async () => {
  await stopNodes(running);
  rmSync(dir, { recursive: true, force: true });
});

test('a validator that missed more than one sync batch of blocks catches up and agrees', async () => {
  const { homes } = initNetwork({ validators: 4, out: dir, chainId: 'sync-test', ports: await freePorts(4) });
  for (const home of homes) {
    // Short pauses between blocks so the test makes many blocks quickly.
    const path = join(home, HOME_FILES.config);
    const config = JSON.parse(readFileSync(path, 'utf8'));
    config.consensus.blockIntervalMs = 5;
    writeFileSync(path, JSON.stringify(config));
  }
  for (const home of homes.slice(0, 3)) running.push(await startNodeProcess(home));
  const url = (running[0] as RunningNode).url;
  // One transaction at a time: each waits for its own block.
  for (let i = 0; i < 65; i++) {
    const res = await post(`${url}/v1/txs`, newSigner('sync-test').register());
    assert.equal(res.status, 202);
    await waitFor(async () => ((await get(`${url}/v1/txs/${res.json.hash}`)).json.status === 'committed' ? true : undefined), `tx ${i}`);
  }
  const target = (await get(`${url}/v1/status`)).json.height as number;
  assert.ok(target >= 60, `made ${target} blocks`);

  const late = await startNodeProcess(homes[3] as string);
  running.push(late);
  await waitFor(
    async () => ((await get(`${late.url}/v1/status`)).json.height >= target ? true : undefined),
    'the late validator to catch up',
    60_000,
  );
  for (const h of [1, 30, 51, target]) {
    const a = (await get(`${url}/v1/blocks/${h}`)).json.hash;
    const b = (await get(`${late.url}/v1/blocks/${h}`)).json.hash;
    assert.equal(b, a, `block ${h} agrees`);
  }
});
