// Products (docs/medicines.md "Products"): a manufacturer registers a GTIN with its name and,
// if it has them yet, NDC, strength, form and RxNorm code; the GTIN's owner fills in the missing
// ones later with product.update, and may transfer the GTIN to another manufacturer, each update
// and transfer kept in the product's history. A detail once given never changes: a changed
// product needs a new GTIN.
import { type Body, idField, onlyFields, stringField } from '../body.js';
import { EhrError } from '../errors.js';
import { activeSigner, getIdentity } from '../identity.js';
import type { TxKind } from '../kinds.js';
import { keys, type StateReader, writeJson } from '../state.js';
import {
  FILLABLE_DETAILS,
  gtinField,
  NDC_RE,
  type Partner,
  PRODUCT_DETAILS,
  type Product,
  type ProductDetail,
  type ProductUpdate,
  partnerKindOf,
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

/** The product `body.gtin` names, which the signer's manufacturer must own now; throws NOT_FOUND or UNAUTHORIZED. */
function ownedProduct(state: StateReader, signer: string, b: Body, action: string): { owner: Partner; gtin: string; product: Product } {
  const owner = requirePartner(state, activeSigner(state, signer), action, ['manufacturer']);
  const gtin = gtinField(b, 'gtin');
  const product = getProduct(state, gtin);
  if (product === undefined) throw new EhrError('NOT_FOUND', `no product ${gtin}`);
  if (product.manufacturer !== owner.org) throw new EhrError('UNAUTHORIZED', `GTIN ${gtin} belongs to another company`);
  return { owner, gtin, product };
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
    const { owner, gtin, product } = ownedProduct(state, tx.signer, b, 'update a product');
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

/** The GTIN's owner moves it to another manufacturer; it commissions and recalls from then on. */
export const productTransfer: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'product.transfer', ['gtin', 'to']);
    const { owner, gtin, product } = ownedProduct(state, tx.signer, b, 'transfer a GTIN');
    const to = idField(b, 'to');
    if (partnerKindOf(getIdentity(state, to)) !== 'manufacturer')
      throw new EhrError('INVALID_BODY', 'body.to is not an active manufacturer');
    if (to === owner.org) throw new EhrError('INVALID_BODY', 'body.to is yourself');
    const moved: Product = {
      ...product,
      manufacturer: to,
      transfers: [...product.transfers, { from: owner.org, to, height: ctx.height, time: ctx.time }],
    };
    writeJson(state, keys.product(gtin), moved);
  },
};
