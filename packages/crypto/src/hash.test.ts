// SHA-256 against FIPS 180-4 examples (NIST CSRC "SHA256.pdf") and its browser twin (noble):
// the one-shot path (a single part) and the streaming path (several parts) must agree.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { toHex, utf8 } from './bytes.js';
import { sha256, sha256Hex, sha256HexOfText } from './hash.js';

test('SHA-256 of the FIPS 180-4 examples, in one part and in several', () => {
  assert.equal(sha256Hex(utf8('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(sha256Hex(new Uint8Array(0)), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  const two = utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq');
  assert.equal(sha256Hex(two), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  assert.equal(sha256Hex(two.subarray(0, 20), two.subarray(20)), sha256Hex(two));
});

test('one part and several parts give what noble gives, for lengths around the block size', () => {
  for (let n = 0; n <= 200; n++) {
    const data = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);
    const want = toHex(nobleSha256(data));
    assert.equal(toHex(sha256(data)), want, `one part of ${n} bytes`);
    assert.equal(toHex(sha256(data.subarray(0, n >> 1), data.subarray(n >> 1))), want, `two parts of ${n} bytes`);
    // A view into a larger buffer hashes only its own bytes.
    const padded = new Uint8Array(n + 8);
    padded.set(data, 4);
    assert.equal(toHex(sha256(padded.subarray(4, 4 + n))), want, `a view of ${n} bytes`);
  }
});

test('the hex of text hashes its UTF-8 bytes, lone surrogates as U+FFFD like TextEncoder, in both entries', async () => {
  const browser = await import('./browser-hash.js');
  for (const text of ['', 'abc', 'identity/ab', 'é✓😀', 'lone \ud800 high', 'lone \udc00 low', '\ud83d', `${'x'.repeat(200)}\u0000`]) {
    const want = toHex(nobleSha256(utf8(text)));
    assert.equal(sha256HexOfText(text), want, JSON.stringify(text));
    assert.equal(browser.sha256HexOfText(text), want, `browser: ${JSON.stringify(text)}`);
  }
  const data = Uint8Array.from({ length: 65 }, (_, i) => i);
  assert.equal(sha256Hex(data), toHex(nobleSha256(data)), 'the one-shot hex path');
  assert.equal(sha256Hex(data.subarray(3, 40)), toHex(nobleSha256(data.subarray(3, 40))), 'the one-shot hex path, of a view');
});
