// RFC 8785 canonical JSON through the library, and the transaction envelope built on it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateSigningKeyPair } from '@medledger/crypto';
import { canonicalJson } from './canonical.js';
import { LedgerError } from './errors.js';
import { parseSignedTx, signTx, txBytes, txHash, txSignBytes, verifyTxSignature } from './tx.js';

describe('RFC 8785 canonical JSON', () => {
  test('sorts keys by UTF-16 code units, recursively, without whitespace', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
    // RFC 8785 §3.2.3 sorting example: keys compare as UTF-16 code units.
    assert.equal(
      canonicalJson({
        '\u20ac': 'Euro Sign',
        '\r': 'Carriage Return',
        '\ufb33': 'Hebrew Letter Dalet With Dagesh',
        '1': 'One',
        '\ud83d\ude00': 'Emoji: Grinning Face',
        '\u0080': 'Control',
        '\u00f6': 'Latin Small Letter O With Diaeresis',
      }),
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  test('formats numbers as ECMAScript does (RFC 8785 §3.2.2.3)', () => {
    assert.equal(
      canonicalJson([1e30, 4.5, 0.002, -0, 1e-7, 333333333.3333333, 9007199254740991]),
      '[1e+30,4.5,0.002,0,1e-7,333333333.3333333,9007199254740991]',
    );
  });

  test('refuses values JSON cannot carry', () => {
    assert.throws(() => canonicalJson(Number.NaN), LedgerError);
    assert.throws(() => canonicalJson({ x: Number.POSITIVE_INFINITY }), LedgerError);
    assert.throws(() => canonicalJson(undefined), LedgerError);
  });
});

describe('transactions', () => {
  const key = generateSigningKeyPair();
  const env = {
    v: 1 as const,
    chain: 'c',
    kind: 'identity.register',
    signer: key.publicKey,
    nonce: 0,
    body: { role: 'patient', n: [1, 2] },
  };

  test('a signed transaction verifies; changing any field breaks it', () => {
    const tx = signTx(env, key.privateKey);
    assert.ok(verifyTxSignature(tx));
    assert.equal(verifyTxSignature({ ...tx, chain: 'd' }), false);
    assert.equal(verifyTxSignature({ ...tx, kind: 'identity.rotate' }), false);
    assert.equal(verifyTxSignature({ ...tx, nonce: 1 }), false);
    assert.equal(verifyTxSignature({ ...tx, body: { role: 'patient', n: [2, 1] } }), false);
    assert.equal(verifyTxSignature({ ...tx, signer: generateSigningKeyPair().publicKey }), false);
  });

  test('the fast envelope serialisation equals the library RFC 8785 output byte for byte', () => {
    const weird = {
      ...env,
      chain: 'c\u2028"\\',
      kind: 'a.b',
      nonce: 9007199254740991,
      body: { z: [1.5, -0, 'é'], a: { '\ud83d\ude00': null } },
    };
    const tx = signTx(weird, key.privateKey);
    assert.equal(new TextDecoder().decode(txBytes(tx)), canonicalJson(tx));
    const { sig: _sig, ...unsigned } = tx;
    assert.equal(new TextDecoder().decode(txSignBytes(tx)), `medledger/tx/v1\n${canonicalJson(unsigned)}`);
  });

  test('sign bytes carry the domain tag; the hash covers the signature', () => {
    const tx = signTx(env, key.privateKey);
    assert.equal(new TextDecoder().decode(txSignBytes(tx)).split('\n')[0], 'medledger/tx/v1');
    assert.equal(new TextDecoder().decode(txBytes(tx)), canonicalJson(tx));
    const other = signTx({ ...env, nonce: 1 }, key.privateKey);
    assert.notEqual(txHash(tx), txHash(other));
    assert.match(txHash(tx), /^[0-9a-f]{64}$/);
  });

  test('parseSignedTx accepts a real transaction and names each malformed field', () => {
    const tx = signTx(env, key.privateKey);
    assert.deepEqual(parseSignedTx(JSON.parse(JSON.stringify(tx))), tx);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...tx, v: 2 }, /v must be 1/],
      [{ ...tx, chain: '' }, /chain/],
      [{ ...tx, kind: 'Bad Kind' }, /kind/],
      [{ ...tx, signer: 'abc' }, /signer/],
      [{ ...tx, nonce: -1 }, /nonce/],
      [{ ...tx, nonce: 1.5 }, /nonce/],
      [{ ...tx, nonce: '0' }, /nonce/],
      [{ ...tx, body: [] }, /body/],
      [{ ...tx, sig: 'zz' }, /sig/],
      [{ ...tx, extra: 1 }, /unknown field 'extra'/],
    ];
    for (const [bad, re] of cases) {
      assert.throws(
        () => parseSignedTx(bad),
        (e: unknown) => e instanceof LedgerError && e.code === 'MALFORMED_TX' && re.test(e.message),
      );
    }
    assert.throws(() => parseSignedTx(null), LedgerError);
    assert.throws(() => parseSignedTx('tx'), LedgerError);
  });
});
