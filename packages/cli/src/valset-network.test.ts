// Validator-set changes by vote across real node processes on loopback (docs/governance.md
// "Validator-set changes"): four genesis validators add a fifth, which starts voting at its
// effective height; they remove one and rotate another's key; blocks keep committing, and
// with the removed validator and one more stopped, only the new set (the fifth and the
// rotated key included) can commit. A light client pinned to genesis verifies the newest
// block across all the changes, and `medledger verify`'s replay accepts the whole chain.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  fetchVerifiedBlock,
  govPropose,
  govVote,
  httpProofSource,
  MedLedgerClient,
  TrustedGenesis,
  ValidatorSetTracker,
  validatorRotateAction,
} from '@medledger/client';
import { encryptKeystore, generateKeyBundle, idFromPublicKey, type KeyBundle } from '@medledger/crypto';
import type { Genesis } from '@medledger/ledger';
import { HOME_FILES, initNetwork, loadHome, type OrgKeyFile, readOrgKey, verifyStoredChain } from '@medledger/node';
import { freePorts, get, TEST_PASSPHRASE, waitFor } from '@medledger/node/testing';
import { openSqliteStore } from '@medledger/storage';
import { type RunningNode, startNodeProcess, stopNodes } from './network.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-valset-'));
const running: RunningNode[] = [];
after(async () => {
  await stopNodes(running);
  rmSync(dir, { recursive: true, force: true });
});

const HOUR = 60 * 60_000;
const CHAIN = 'valset-net';

interface Signed {
  height: number;
  signers: string[];
}

/** Block `height` and who signed its commit, from `url`. */
async function commitAt(url: string, height: number): Promise<Signed> {
  const json = (await get(`${url}/v1/blocks/${height}`)).json as { commit: { signatures: Array<{ validator: string }> } };
  return { height, signers: json.commit.signatures.map((s) => s.validator) };
}

async function heightOf(url: string): Promise<number> {
  return (await get(`${url}/v1/status`)).json.height as number;
}

test('a fifth validator added by vote votes from its effective height; a removed one and a rotated key are followed by consensus and the light client', async () => {
  const organizations = ['Alpha Hospital', 'Beta Clinic', 'Gamma Lab', 'Delta Hospital'].map((name) => ({ name, kind: 'hospital' }));
  const { homes, orgKeys } = initNetwork({ validators: 5, out: dir, chainId: CHAIN, ports: await freePorts(5), organizations });
  // Genesis lists only the first four validators: the fifth home is a node that joins by vote.
  const genesisPath = (home: string) => join(home, HOME_FILES.genesis);
  const full = JSON.parse(readFileSync(genesisPath(homes[0] as string), 'utf8')) as Genesis;
  const genesis: Genesis = { ...full, validators: full.validators.slice(0, 4) };
  for (const home of homes) {
    writeFileSync(genesisPath(home), `${JSON.stringify(genesis, null, 2)}\n`);
    const path = join(home, HOME_FILES.config);
    const config = JSON.parse(readFileSync(path, 'utf8'));
    // Quick blocks, and an idle heartbeat so blocks keep coming without transactions.
    config.consensus.blockIntervalMs = 20;
    config.consensus.heartbeatMs = 150;
    writeFileSync(path, JSON.stringify(config));
  }
  const nodeKey = (i: number): KeyBundle => loadHome(homes[i] as string).key;
  const keyOf = homes.map((_, i) => nodeKey(i).signing.publicKey);
  // Validator 2's operator puts its next key in the home before the rotation is proposed (docs/governance.md).
  const nextKey = generateKeyBundle();
  writeFileSync(
    join(homes[2] as string, HOME_FILES.nextNodeKey),
    JSON.stringify(encryptKeystore(nextKey, TEST_PASSPHRASE, { scryptN: 1024 })),
    {
      mode: 0o600,
    },
  );

  for (const home of homes.slice(0, 4)) running.push(await startNodeProcess(home));
  const urls = running.map((n) => n.url);
  const trusted = TrustedGenesis.fromDocument(genesis);
  const org = (i: number, url: string) =>
    new MedLedgerClient({
      url,
      genesis: trusted,
      keys: readOrgKey((orgKeys[i] as OrgKeyFile).home, { file: (orgKeys[i] as OrgKeyFile).file }),
    });
  /** Propose `action` as organization 0 and pass it with the votes of organizations 1–3 (3 of 4 members), through `url`. */
  const pass = async (action: Parameters<typeof govPropose>[1], url: string) => {
    const p = await govPropose(org(0, url), action, HOUR);
    await govVote(org(1, url), p.id, true);
    await govVote(org(2, url), p.id, true);
    const passed = await govVote(org(3, url), p.id, true);
    assert.equal(passed.status, 'passed', JSON.stringify(passed));
    return passed.effectiveHeight as number;
  };

  // 1. Add the fifth validator; start its node; it signs commits from its effective height on.
  const fifth = nodeKey(4);
  const addedAt = await pass(
    { type: 'validator.add', name: 'validator-4', publicKey: fifth.signing.publicKey, encryptionKey: fifth.encryption.publicKey, power: 1 },
    urls[1] as string,
  );
  const fifthNode = await startNodeProcess(homes[4] as string);
  running.push(fifthNode);
  await waitFor(
    async () => {
      const tip = await heightOf(urls[1] as string);
      for (let h = Math.max(addedAt, tip - 5); h <= tip; h++)
        if ((await commitAt(urls[1] as string, h)).signers.includes(keyOf[4] as string)) return true;
      return undefined;
    },
    'a commit signed by the fifth validator',
    60_000,
  );
  for (let h = 1; h < addedAt; h++)
    assert.ok(
      !(await commitAt(urls[1] as string, h)).signers.includes(keyOf[4] as string),
      `block ${h} is before the fifth's effective height`,
    );

  // 2. Remove validator 0; 3. rotate validator 2's key.
  const removedAt = await pass({ type: 'validator.remove', validator: idFromPublicKey(keyOf[0] as string) }, urls[1] as string);
  const rotatedAt = await pass(
    validatorRotateAction({
      chain: CHAIN,
      validator: idFromPublicKey(keyOf[2] as string),
      newSigning: nextKey.signing,
      encryptionKey: nextKey.encryption.publicKey,
    }),
    urls[1] as string,
  );
  await waitFor(async () => ((await heightOf(urls[1] as string)) >= rotatedAt + 3 ? true : undefined), 'blocks after the rotation', 60_000);
  for (let h = removedAt; h <= rotatedAt + 2; h++)
    assert.ok(
      !(await commitAt(urls[1] as string, h)).signers.includes(keyOf[0] as string),
      `block ${h}: the removed validator does not sign`,
    );
  for (let h = rotatedAt; h <= rotatedAt + 2; h++)
    assert.ok(
      !(await commitAt(urls[1] as string, h)).signers.includes(keyOf[2] as string),
      `block ${h}: the rotated-out key does not sign`,
    );
  // The removed validator's peer links are closed and not let back; the rotated one keeps its links.
  const linked = async () =>
    ((await get(`${urls[1]}/v1/status`)).json.peers as Array<{ publicKey: string; connected: boolean }>)
      .filter((p) => p.connected)
      .map((p) => p.publicKey);
  await waitFor(async () => (!(await linked()).includes(keyOf[0] as string) ? true : undefined), 'the removed validator to be cut off');
  assert.ok((await linked()).includes(keyOf[2] as string), 'the rotated validator is still linked by its node key');

  // 4. Stop the removed validator and validator 1: the set {1, 2 (new key), 3, 4} still has 3 of 4
  // running, so blocks go on, and they need both the fifth's and the rotated key's precommits.
  await stopNodes([running[0] as RunningNode, running[1] as RunningNode]);
  const url = urls[3] as string;
  const before = await heightOf(url);
  await waitFor(async () => ((await heightOf(url)) >= before + 3 ? true : undefined), 'blocks without validators 0 and 1', 60_000);
  const last = await commitAt(url, before + 3);
  assert.deepEqual(
    [...last.signers].sort(),
    [nextKey.signing.publicKey, keyOf[3] as string, keyOf[4] as string].sort(),
    'signed by the rotated key, validator 3 and the fifth',
  );

  // 5. A light client pinned to genesis follows every change to the newest block.
  const source = httpProofSource(url);
  const tracker = new ValidatorSetTracker(genesis, source);
  const newest = await fetchVerifiedBlock(source, tracker, 'latest');
  assert.ok(newest.height >= before + 3);
  assert.deepEqual(
    (await tracker.validatorsAt(newest.height)).map((v) => v.publicKey),
    [keyOf[1], nextKey.signing.publicKey, keyOf[3], keyOf[4]],
  );
  // The same client given only the genesis (no tracker) walks from genesis too.
  assert.equal((await fetchVerifiedBlock(source, genesis, newest.height)).commit.blockHash, newest.commit.blockHash);

  // 6. The whole stored chain re-verifies offline with a replay (`medledger verify`).
  await stopNodes(running);
  const store = openSqliteStore(join(homes[3] as string, HOME_FILES.db));
  try {
    const result = verifyStoredChain(genesis, store);
    assert.equal(result.ok, true, JSON.stringify(result));
  } finally {
    store.close();
  }
});
