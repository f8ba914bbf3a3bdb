// Products registered with only a GTIN and a name (issue 14's `product register --gtin --name
// [--ndc]`): they move through the supply chain like any other, cannot fill a prescription
// until their owner adds an RxNorm code with product.update, and every update keeps its history.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dispense, GTIN, pkg, prescribe, RXNORM, stocked, type World, world } from './test-world.js';
import { getPackage, getProduct, verifyPackage } from './verify.js';

const bare = { gtin: GTIN, name: 'Amoxicillin' };
/** Every stored EPCIS event so far (the test store has no scan: replay the writes). */
const storedEvents = (w: World) =>
  w.writes
    .flat()
    .filter((x) => x.key.startsWith('epcis/') && x.value !== null)
    .map((x) => JSON.parse(x.value as string) as Record<string, unknown>);

describe('product registered with only GTIN and name', () => {
  test('register without NDC, strength, form and RxNorm: the details are null, not missing or "undefined"', () => {
    const w = world();
    assert.deepEqual(w.block([w.maker.tx('product.register', bare)]), ['ok']);
    const p = getProduct(w.state, GTIN);
    assert.deepEqual(
      [p?.name, p?.ndc, p?.strength, p?.form, p?.rxnorm, p?.manufacturer],
      ['Amoxicillin', null, null, null, null, w.maker.id],
    );
    assert.equal(p?.updates, undefined);
    // The name is still required, and a detail given must still be well formed.
    const other = { ...bare, gtin: '00036000291452' };
    assert.deepEqual(
      w.block([
        w.maker.tx('product.register', { gtin: other.gtin }),
        w.maker.tx('product.register', { ...other, rxnorm: 'amoxicillin' }),
        w.maker.tx('product.register', { ...other, ndc: '1234' }),
        w.maker.tx('product.register', { ...other, ndc: '12345-678-90' }),
      ]),
      ['INVALID_BODY', 'INVALID_BODY', 'INVALID_BODY', 'ok'],
    );
    assert.equal(getProduct(w.state, other.gtin)?.ndc, '12345-678-90');
  });

  test('is commissioned, packed, shipped, received, verified and recalled like any other; its DSCSA transaction information leaves strength and form out', () => {
    const w = world();
    stocked(w, bare);
    assert.equal(getPackage(w.state, GTIN, 'S3')?.holder, w.pharmA.id);
    assert.deepEqual(verifyPackage(w.state, pkg('S3'), w.now()), { verified: true });
    const shipments = storedEvents(w).filter((e) => e.bizStep === 'shipping');
    assert.equal(shipments.length, 2);
    for (const e of shipments) {
      const ti = e['medledger:transactionInformation'] as Array<Record<string, unknown>>;
      assert.deepEqual(ti, [{ gtin: GTIN, lot: 'L1', expiry: '2027-12-31', count: 4, name: 'Amoxicillin' }]);
      assert.doesNotMatch(JSON.stringify(e), /undefined|null/);
    }
    assert.deepEqual(w.block([w.maker.tx('supply.recall', { gtin: GTIN, lot: 'L1', reason: 'assay', eventTime: w.iso() })]), ['ok']);
    assert.deepEqual(verifyPackage(w.state, pkg('S3'), w.now()), { verified: false, reason: 'Recalled' });
  });

  test('a dispense with packs of a product without RxNorm is refused as PRODUCT_NOT_PRESCRIBABLE; after the owner adds the code it fills', () => {
    const w = world();
    stocked(w, bare);
    const rx = prescribe(w);
    assert.deepEqual(w.block([rx]), ['ok']);
    assert.deepEqual(w.block([dispense(w.pharmacistA, rx, [pkg('S3')])]), ['PRODUCT_NOT_PRESCRIBABLE']);
    const refusal = w.results.at(-1)?.[0];
    assert.match(refusal?.log ?? '', new RegExp(`product ${GTIN} has no RxNorm code`));
    assert.equal(getPackage(w.state, GTIN, 'S3')?.status, 'active', 'nothing of the refused dispense was written');
    // Only the GTIN's owner may add it.
    assert.deepEqual(w.block([w.maker2.tx('product.update', { gtin: GTIN, rxnorm: RXNORM })]), ['UNAUTHORIZED']);
    assert.deepEqual(w.block([w.pharmA.tx('product.update', { gtin: GTIN, rxnorm: RXNORM })]), ['UNAUTHORIZED']);
    assert.deepEqual(w.block([w.maker.tx('product.update', { gtin: GTIN, rxnorm: RXNORM })]), ['ok']);
    assert.deepEqual(w.block([dispense(w.pharmacistA, rx, [pkg('S3')])]), ['ok']);
    assert.equal(getPackage(w.state, GTIN, 'S3')?.status, 'dispensed');
  });
});

describe('product.update', () => {
  test('the owner fills in missing details, each update kept; a given detail never changes; after a transfer only the new owner may', () => {
    const w = world();
    assert.deepEqual(w.block([w.maker.tx('product.register', bare)]), ['ok']);
    const t1 = w.now();
    assert.deepEqual(w.block([w.maker.tx('product.update', { gtin: GTIN, strength: '500 mg', form: 'capsule', ndc: '12345-678-90' })]), [
      'ok',
    ]);
    // A different strength is a different product: it needs its own GTIN, whoever asks.
    assert.deepEqual(
      w.block([
        w.maker.tx('product.update', { gtin: GTIN, strength: '250 mg' }),
        w.maker.tx('product.update', { gtin: GTIN, ndc: '12345-678-91', rxnorm: RXNORM }),
      ]),
      ['PRODUCT_DETAIL_FIXED', 'PRODUCT_DETAIL_FIXED'],
    );
    const p = getProduct(w.state, GTIN);
    assert.deepEqual([p?.name, p?.ndc, p?.strength, p?.form, p?.rxnorm], [bare.name, '12345-678-90', '500 mg', 'capsule', null]);
    // Changes are in the fixed detail order; the refused updates left no trace.
    assert.deepEqual(
      p?.updates?.map((u) => [u.by, u.changes]),
      [
        [
          w.maker.id,
          [
            { field: 'ndc', from: null, to: '12345-678-90' },
            { field: 'strength', from: null, to: '500 mg' },
            { field: 'form', from: null, to: 'capsule' },
          ],
        ],
      ],
    );
    assert.ok((p?.updates?.[0]?.time ?? 0) > t1 && (p?.updates?.[0]?.height ?? 0) > 0);
    assert.deepEqual(
      w.block([
        // Nothing that changes, no detail, the name (fixed at registration), an unknown field, a detail removed, a bad RxNorm, an unknown GTIN.
        w.maker.tx('product.update', { gtin: GTIN, strength: '500 mg' }),
        w.maker.tx('product.update', { gtin: GTIN }),
        w.maker.tx('product.update', { gtin: GTIN, name: 'Other' }),
        w.maker.tx('product.update', { gtin: GTIN, manufacturer: w.maker2.id }),
        w.maker.tx('product.update', { gtin: GTIN, ndc: null }),
        w.maker.tx('product.update', { gtin: GTIN, rxnorm: 'abc' }),
        w.maker.tx('product.update', { gtin: '00036000291452', rxnorm: RXNORM }),
      ]),
      ['INVALID_BODY', 'INVALID_BODY', 'INVALID_BODY', 'INVALID_BODY', 'INVALID_BODY', 'INVALID_BODY', 'NOT_FOUND'],
    );
    assert.deepEqual(w.block([w.maker.tx('product.transfer', { gtin: GTIN, to: w.maker2.id })]), ['ok']);
    assert.deepEqual(
      w.block([
        w.maker.tx('product.update', { gtin: GTIN, rxnorm: RXNORM }),
        w.maker2.tx('product.update', { gtin: GTIN, rxnorm: RXNORM }),
      ]),
      ['UNAUTHORIZED', 'ok'],
    );
    const moved = getProduct(w.state, GTIN);
    assert.equal(moved?.rxnorm, RXNORM);
    assert.equal(moved?.updates?.length, 2);
    assert.equal(moved?.updates?.[1]?.by, w.maker2.id);
    assert.equal(moved?.transfers.length, 1);
    // Once given, the RxNorm code is fixed too: packs already made cannot be pointed at another drug.
    assert.deepEqual(w.block([w.maker2.tx('product.update', { gtin: GTIN, rxnorm: '308182' })]), ['PRODUCT_DETAIL_FIXED']);
  });
});
