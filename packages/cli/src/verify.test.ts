// The issue-2 contract end to end with real processes and a real SQLite file: init one
// validator, run it, commit 1,000 registrations with `load`, stop it, and `verify` passes;
// then each kind of tampering with the stored chain makes `verify` fail at the right height.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HOME_FILES, initNetwork } from '@medledger/node';
import { freePorts, TEST_PASSPHRASE } from '@medledger/node/testing';
import Database from 'better-sqlite3';
import { type RunningNode, startNodeProcess, stopNodes } from './network.js';
import { runCli } from './testing/cli.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

let dir: string;
let home: string;
let blocks: number;
let txHeight = 2;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'medledger-verify-'));
  const { homes } = initNetwork({ validators: 1, out: dir, chainId: 'verify-test', ports: await freePorts(1) });
  home = homes[0] as string;
  const node: RunningNode = await startNodeProcess(home);
  try {
    const load = await runCli(['load', '--url', node.url, '--count', '1000', '--concurrency', '16'], { timeoutMs: 300_000 });
    assert.equal(load.code, 0, load.stderr);
    assert.match(load.stdout, /^committed 1000 transactions in [0-9.]+ s \([0-9]+ tx\/s\)$/m);
  } finally {
    await stopNodes([node]);
  }
  const db = new Database(join(home, HOME_FILES.db), { readonly: true });
  blocks = (db.prepare('SELECT MAX(height) AS h FROM blocks').get() as { h: number }).h;
  // The first block holding transactions: an idle heartbeat can make block 2 empty when the
  // load starts late (a busy machine), and the transaction tests need one to tamper with.
  for (txHeight = 1; txHeight <= blocks && JSON.parse(blockJson(db, txHeight)).txs.length === 0; txHeight++);
  db.close();
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Copy the home, apply `tamper` to its database, run verify on the copy. */
async function verifyTampered(tamper: (db: Database.Database) => void) {
  const copy = mkdtempSync(join(tmpdir(), 'medledger-tamper-'));
  try {
    cpSync(home, copy, { recursive: true });
    const db = new Database(join(copy, HOME_FILES.db));
    tamper(db);
    db.close();
    return await runCli(['verify', '--home', copy]);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

function blockJson(db: Database.Database, height: number): string {
  return (db.prepare('SELECT block FROM blocks WHERE height = ?').get(height) as { block: string }).block;
}

function setBlockJson(db: Database.Database, height: number, json: string): void {
  db.prepare('UPDATE blocks SET block = ? WHERE height = ?').run(json, height);
}

/** Flip one hex digit at `index` of the string. */
function flipHexAt(s: string, index: number): string {
  const c = s[index] as string;
  return s.slice(0, index) + (c === '0' ? '1' : '0') + s.slice(index + 1);
}

describe('medledger verify', () => {
  test('passes on the untouched chain with every transaction counted', async () => {
    assert.ok(blocks >= 3, `expected several blocks, got ${blocks}`);
    const res = await runCli(['verify', '--home', home]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, new RegExp(`^verified ${blocks} blocks, 1000 transactions$`, 'm'));
  });

  test('a changed byte in a stored transaction is caught at its height', async () => {
    const res = await verifyTampered((db) => {
      const json = blockJson(db, txHeight);
      const at = json.indexOf('"encryptionKey":"') + '"encryptionKey":"'.length + 5;
      setBlockJson(db, txHeight, flipHexAt(json, at));
    });
    assert.equal(res.code, 1);
    assert.match(res.stderr, new RegExp(`verification failed at height ${txHeight}: (BAD_TX_ROOT|BAD_TX_SIGNATURE|MALFORMED_BLOCK)`));
  });

  test('a changed transaction signature is caught at its height', async () => {
    const res = await verifyTampered((db) => {
      const json = blockJson(db, txHeight);
      const at = json.indexOf('"sig":"', json.indexOf('"txs":[')) + 10;
      setBlockJson(db, txHeight, flipHexAt(json, at));
    });
    assert.equal(res.code, 1);
    assert.match(res.stderr, new RegExp(`verification failed at height ${txHeight}: (BAD_TX_ROOT|BAD_TX_SIGNATURE)`));
  });

  test('a changed commit signature is caught at its height', async () => {
    const res = await verifyTampered((db) => {
      const row = db.prepare('SELECT commit_json FROM blocks WHERE height = 2').get() as { commit_json: string };
      const at = row.commit_json.indexOf('"sig":"') + 10;
      db.prepare('UPDATE blocks SET commit_json = ? WHERE height = 2').run(flipHexAt(row.commit_json, at));
    });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /verification failed at height 2: (BAD_COMMIT|BAD_LAST_COMMIT)/);
  });

  test('a changed header field is caught at its height', async () => {
    const res = await verifyTampered((db) => {
      const block = JSON.parse(blockJson(db, 3));
      block.header.time += 1;
      setBlockJson(db, 3, JSON.stringify(block));
    });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /verification failed at height 3: /);
  });

  test('a removed block is caught at the gap', async () => {
    const res = await verifyTampered((db) => {
      db.prepare('DELETE FROM blocks WHERE height = 2').run();
    });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /verification failed at height 2: HEIGHT_GAP/);
  });

  test('reordered blocks are caught at the first out-of-place height', async () => {
    const res = await verifyTampered((db) => {
      const two = db.prepare('SELECT hash, block, commit_json, results FROM blocks WHERE height = 2').get() as Record<string, string>;
      const three = db.prepare('SELECT hash, block, commit_json, results FROM blocks WHERE height = 3').get() as Record<string, string>;
      const put = db.prepare('UPDATE blocks SET hash = ?, block = ?, commit_json = ?, results = ? WHERE height = ?');
      put.run(three.hash, three.block, three.commit_json, three.results, 2);
      put.run(two.hash, two.block, two.commit_json, two.results, 3);
    });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /verification failed at height 2: /);
  });

  test('a node refuses to start on a tampered store and says how to resync', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'medledger-tamper-'));
    try {
      cpSync(home, copy, { recursive: true });
      const db = new Database(join(copy, HOME_FILES.db));
      const json = blockJson(db, 2);
      setBlockJson(db, 2, flipHexAt(json, json.indexOf('"sig":"') + 10));
      db.close();
      const res = await runCli(['node', '--home', copy], { timeoutMs: 30_000 });
      assert.notEqual(res.code, 0);
      assert.match(res.stderr, /stored block 2 is corrupt/);
      assert.match(res.stderr, /resync/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  // The engine is fixed by genesis: an embedded chain is never checked as CometBFT's, whose
  // blocks a lying RPC could serve signed by keys that governance has since replaced.
  test('verify refuses to check an embedded chain as CometBFT made it (ENGINE_MISMATCH), before asking any RPC', async () => {
    const res = await runCli(['verify', '--home', home, '--engine', 'cometbft', '--rpc', 'http://127.0.0.1:9']);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /ENGINE_MISMATCH: the genesis of .* names the embedded engine, not cometbft/);
  });

  // A novice runs verify while the node still runs: the answer must say so and what to do, not
  // "database is locked".
  test('verify on a running node says a node is running and to stop it (exit 1, NODE_RUNNING)', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'medledger-running-'));
    try {
      cpSync(home, copy, { recursive: true });
      const node = await startNodeProcess(copy);
      try {
        const res = await runCli(['verify', '--home', copy]);
        assert.equal(res.code, 1, res.stderr);
        assert.match(res.stderr, /NODE_RUNNING: a node is running on .* \(process \d+, API http:\/\/127\.0\.0\.1:\d+\); stop it/);
        assert.doesNotMatch(res.stderr, /database is locked/);
      } finally {
        await stopNodes([node]);
      }
      const stopped = await runCli(['verify', '--home', copy]);
      assert.equal(stopped.code, 0, stopped.stderr);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  // docs/cli.md: `--url` defaults to $MEDLEDGER_URL, for `load` as for every other command.
  test('load takes the node URL from MEDLEDGER_URL when --url is not given', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'medledger-load-env-'));
    try {
      cpSync(home, copy, { recursive: true });
      const node = await startNodeProcess(copy);
      try {
        const res = await runCli(['load', '--count', '5'], { env: { MEDLEDGER_URL: node.url } });
        assert.equal(res.code, 0, res.stderr);
        assert.match(res.stdout, /^committed 5 transactions in /m);
      } finally {
        await stopNodes([node]);
      }
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  test('verify refuses a home without a chain with a usage error', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'medledger-empty-'));
    try {
      const res = await runCli(['verify', '--home', empty]);
      assert.equal(res.code, 2);
      assert.match(res.stderr, /no chain database/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
