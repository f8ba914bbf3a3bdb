// @medledger/ledger: canonical encoding, transactions, blocks and commits, Merkle proofs,
// and offline chain verification.
export * from './block.js';
export * from './canonical.js';
export * from './errors.js';
export * from './genesis.js';
export * from './merkle.js';
export * from './results-root.js';
export * from './state-proof.js';
export * from './state-tree.js';
export * from './tx.js';
export * from './types.js';
export * from './validator-set.js';
export * from './verify.js';
