// @medledger/storage: the node's block, state and signer store, in SQLite and in memory.
export * from './app-state.js';
export * from './backup.js';
export * from './memory.js';
export * from './sqlite.js';
export * from './types.js';
