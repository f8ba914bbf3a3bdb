// Insurance as deterministic ledger rules (docs/insurance.md).
export * from './adjudicate.js';
export * from './claim-response.js';
export * from './claims.js';
export * from './eligibility.js';
export * from './lists.js';
export * from './model.js';
export * from './parties.js';
export * from './plans.js';
export * from './preauth.js';
