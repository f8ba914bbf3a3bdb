// Products (docs/medicines.md "Products"): a manufacturer registers a GTIN with its name and,
// if it has them yet, NDC, strength, form and RxNorm code; the GTIN's owner fills in the missing
// ones later with product.update, each update kept in the product's history. A detail once
// given never changes: a changed product needs a new GTIN.
import { type Body, onlyFields, stringField } from '../body.js';
import { EhrError } from '../errors.js';
import { activeSigner } from '../identity.js';
import type { TxKind } from '../kinds.js';
import { keys, writeJson } from '../state.js';
import {
  FILLABLE_DETAILS,
  gtinField,
  NDC_RE,
  PRODUCT_DETAILS,
  type Product,
  type ProductDetail,
  type ProductUpdate,
  RXNORM_RE,
  requirePartner,
  TEXT_RE,
} from './model.js';
import { getProduct } from './verify.js';

/** One product detail, checked the same way by product.register and product.update. */
function productDetail(b: Body, f: ProductDetail): string {
  if (f === 'ndc') return stringField(b, f, NDC_RE, 'an NDC such as 12345-678-90');
  if (f === 'rxnorm') return stringField(b, f, RXNORM_RE, 'an RxNorm code (digits)');
  return stringField(b, f, TEXT_RE, 'text of 1–200 characters');
}

export const productRegister: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'product.register', ['gtin', ...PRODUCT_DETAILS]);
    const maker = requirePartner(state, activeSigner(state, tx.signer), 'register products', ['manufacturer']);
    const gtin = gtinField(b, 'gtin');
    if (getProduct(state, gtin) !== undefined) throw new EhrError('ALREADY_REGISTERED', `GTIN ${gtin} is already registered`);
    // Only the GTIN and name are required (issue 14): a detail not given is null until product.update.
    const optionalDetail = (f: ProductDetail) => (b[f] === undefined ? null : productDetail(b, f));
    const product: Product = {
      gtin,
      ndc: optionalDetail('ndc'),
      name: productDetail(b, 'name'),
      strength: optionalDetail('strength'),
      form: optionalDetail('form'),
      rxnorm: optionalDetail('rxnorm'),
      manufacturer: maker.org,
      registeredAt: { height: ctx.height, time: ctx.time },
      transfers: [],
    };
    writeJson(state, keys.product(gtin), product);
  },
};

/**
 * The GTIN's current owner fills in details still null (NDC, strength, form, RxNorm). One
 * already given is never changed (PRODUCT_DETAIL_FIXED): a different NDC, strength, form or
 * RxNorm concept is a different product with its own GTIN, and changing the RxNorm code would
 * let packs already commissioned fill other prescriptions. A detail given with the value it
 * already has is not a change; an update that changes nothing is refused. Each update is
 * appended to `updates`, as transfers are.
 */
export const productUpdate: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'product.update', ['gtin', ...FILLABLE_DETAILS]);
    const owner = requirePartner(state, activeSigner(state, tx.signer), 'update a product', ['manufacturer']);
    const gtin = gtinField(b, 'gtin');
    const product = getProduct(state, gtin);
    if (product === undefined) throw new EhrError('NOT_FOUND', `no product ${gtin}`);
    if (product.manufacturer !== owner.org) throw new EhrError('UNAUTHORIZED', `GTIN ${gtin} belongs to another company`);
    const changes: ProductUpdate['changes'] = [];
    const updated: Product = { ...product };
    // FILLABLE_DETAILS fixes the order, so every validator writes the same history.
    for (const field of FILLABLE_DETAILS) {
      if (b[field] === undefined) continue;
      const to = productDetail(b, field);
      const from = product[field];
      if (to === from) continue;
      if (from !== null)
        throw new EhrError(
          'PRODUCT_DETAIL_FIXED',
          `GTIN ${gtin} already has ${field} ${JSON.stringify(from)}; a product with a different ${field} needs its own GTIN`,
        );
      changes.push({ field, from, to });
      updated[field] = to;
    }
    if (changes.length === 0)
      throw new EhrError(
        'INVALID_BODY',
        `product.update changes nothing: give at least one of ${FILLABLE_DETAILS.join(', ')} still missing`,
      );
    updated.updates = [...(product.updates ?? []), { by: owner.org, height: ctx.height, time: ctx.time, changes }];
    writeJson(state, keys.product(gtin), updated);
  },
};
