// Medicines as deterministic ledger rules (docs/medicines.md).
export * from './capture.js';
export * from './event-hash.js';
export * from './events.js';
export * from './kinds.js';
export * from './lifecycle.js';
export * from './model.js';
export * from './products.js';
export * from './rx.js';
export * from './supply.js';
export * from './verify.js';
