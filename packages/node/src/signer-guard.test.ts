// The double-sign guard on a real SQLite file: what was signed survives a restart, and
// nothing conflicting is ever authorised.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { openSqliteStore } from '@medledger/storage';
import { SignerGuard } from './signer-guard.js';

describe('double-sign guard', () => {
  test('never authorises two different votes for one (height, round, step), even across a restart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'medledger-guard-'));
    const path = join(dir, 'chain.db');
    try {
      let store = openSqliteStore(path);
      let guard = new SignerGuard(store);
      assert.ok(guard.authorize(5, 0, 'proposal', 'aa'));
      assert.ok(guard.authorize(5, 0, 'prevote', 'aa'));
      assert.ok(guard.authorize(5, 0, 'prevote', 'aa'), 'the identical vote may be re-sent');
      assert.equal(guard.authorize(5, 0, 'prevote', null), false, 'a conflicting prevote is refused');
      assert.ok(guard.authorize(5, 0, 'precommit', null));
      // Crash: the process dies here. A new process opens the same file.
      store.close();
      store = openSqliteStore(path);
      guard = new SignerGuard(store);
      assert.deepEqual(guard.lastSigned, { height: 5, round: 0, step: 3, blockHash: null });
      assert.equal(guard.authorize(5, 0, 'precommit', 'aa'), false, 'after restart: conflicting precommit refused');
      assert.equal(guard.authorize(5, 0, 'prevote', 'aa'), false, 'after restart: going back a step refused');
      assert.equal(guard.authorize(4, 9, 'precommit', 'aa'), false, 'a lower height is refused');
      assert.ok(guard.authorize(5, 0, 'precommit', null), 'identical re-sign allowed');
      assert.ok(guard.authorize(5, 1, 'prevote', 'bb'), 'a later round is fine');
      assert.ok(guard.authorize(6, 0, 'proposal', 'cc'), 'a later height is fine');
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
