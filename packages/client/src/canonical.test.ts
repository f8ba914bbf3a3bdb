// The SDK's own canonical JSON, transaction signing and hashing must match @medledger/ledger
// byte for byte, or a node would refuse (or hash differently) what a browser signs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateSigningKeyPair } from '@medledger/crypto';
import * as ledger from '@medledger/ledger';
import fc from 'fast-check';
import { canonicalJson, signTx, txHash } from './canonical.js';
import { ClientError } from './errors.js';

const json = fc.jsonValue({ maxDepth: 3 }).filter((v) => !Object.is(v, -0));

test('canonical JSON is the ledger canonical JSON for any JSON value', () => {
  fc.assert(fc.property(json, (v) => canonicalJson(v) === ledger.canonicalJson(v)));
});

test('a transaction signed here verifies on the ledger and hashes the same', () => {
  const key = generateSigningKeyPair();
  fc.assert(
    fc.property(fc.dictionary(fc.string(), json, { maxKeys: 4 }), fc.nat(), (body, nonce) => {
      const env = { v: 1 as const, chain: 'c', kind: 'test.noop', signer: key.publicKey, nonce, body };
      const tx = signTx(env, key.privateKey);
      assert.deepEqual(tx, ledger.signTx(env, key.privateKey));
      assert.ok(ledger.verifyTxSignature(tx));
      assert.equal(txHash(tx), ledger.txHash(tx));
    }),
    { numRuns: 50 },
  );
});

test('values JSON cannot carry are refused with INVALID_ARGUMENT', () => {
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, undefined, 10n]) {
    assert.throws(
      () => canonicalJson(bad),
      (e: unknown) => e instanceof ClientError && e.code === 'INVALID_ARGUMENT',
    );
  }
});
