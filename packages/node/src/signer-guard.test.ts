// The double-sign guard on a real SQLite file: what was signed survives a restart, and
// nothing conflicting is ever authorised.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { openSqliteStore } from '@medledger/storage';
import { SIGNER_HOLD_KEY, SignerGuard } from './signer-guard.js';

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
  test('the signed message and its lock are written with the guard position, and only when it is authorised', () => {
    const dir = mkdtempSync(join(tmpdir(), 'medledger-guard-'));
    const path = join(dir, 'chain.db');
    try {
      let store = openSqliteStore(path);
      const guard = new SignerGuard(store);
      assert.ok(
        guard.authorize(7, 0, 'prevote', 'aa', [
          ['consensus/own-votes', 'V1'],
          ['consensus/lock', 'L1'],
        ]),
      );
      assert.equal(
        guard.authorize(7, 0, 'prevote', 'bb', [
          ['consensus/own-votes', 'CONFLICT'],
          ['consensus/lock', 'CONFLICT'],
        ]),
        false,
      );
      assert.ok(guard.authorize(7, 0, 'prevote', 'aa', [['consensus/own-votes', 'V1 again']]), 'the identical vote, re-sent');
      store.close();
      store = openSqliteStore(path);
      assert.equal(store.getMeta('consensus/own-votes'), 'V1 again', 'a refused message is never recorded as signed');
      assert.equal(store.getMeta('consensus/lock'), 'L1');
      assert.deepEqual(new SignerGuard(store).lastSigned, { height: 7, round: 0, step: 2, blockHash: 'aa' });
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test('after a restore nothing is signed until a block stamped after the restore is committed, and the release survives a restart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'medledger-guard-'));
    const path = join(dir, 'chain.db');
    try {
      let store = openSqliteStore(path);
      store.setMeta(SIGNER_HOLD_KEY, '1000');
      let tip = 1000;
      const lines: string[] = [];
      let guard = new SignerGuard(
        store,
        () => tip,
        (l) => lines.push(l),
      );
      assert.equal(guard.holdSince, 1000);
      assert.equal(guard.authorize(7, 0, 'prevote', 'aa'), false, 'tip stamped at the restore: held');
      tip = 999;
      assert.equal(guard.authorize(7, 0, 'proposal', 'aa'), false, 'an older tip: held');
      assert.equal(guard.lastSigned, undefined, 'nothing was recorded as signed while held');
      tip = 1001;
      assert.ok(guard.authorize(8, 0, 'prevote', 'bb'), 'a block committed after the restore releases the hold');
      assert.equal(guard.holdSince, undefined);
      assert.equal(lines.length, 1);
      store.close();
      store = openSqliteStore(path);
      tip = 0;
      guard = new SignerGuard(store, () => tip);
      assert.equal(guard.holdSince, undefined, 'the release was persisted');
      assert.ok(guard.authorize(9, 0, 'prevote', 'cc'));
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
