// The node's results root is the verifier's: the same root for any list of results,
// repeated ones included, and the same refusal for a result with no JSON form.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { blockResultsRoot } from './results-root.js';
import { resultsRootOf, StateProofError } from './state-proof.js';

const result = fc.oneof(
  fc.constant({ code: 'ok', log: '' }),
  fc.record({ code: fc.constantFrom('NONCE_REUSED', 'BAD_SIGNATURE', 'ok'), log: fc.string({ maxLength: 40 }) }),
);

test('blockResultsRoot gives the verifier root (resultsRootOf) for any results, sizes 0 to 70', () => {
  fc.assert(
    fc.property(fc.array(result, { maxLength: 70 }), (results) => {
      assert.equal(blockResultsRoot(results), resultsRootOf(results));
    }),
    { numRuns: 300 },
  );
});

test('blockResultsRoot of a block of identical results, and of none, matches too', () => {
  for (const n of [0, 1, 2, 3, 5000]) {
    const results = Array.from({ length: n }, () => ({ code: 'ok', log: '' }));
    assert.equal(blockResultsRoot(results), resultsRootOf(results), `${n} results`);
  }
});

test('blockResultsRoot refuses a result with no canonical JSON form, as the verifier does', () => {
  assert.throws(() => blockResultsRoot([{ code: 'ok', log: '' }, undefined]), StateProofError);
  assert.throws(() => resultsRootOf([{ code: 'ok', log: '' }, undefined]), StateProofError);
});
