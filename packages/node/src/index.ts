// @medledger/node: one node process.

export * from './access-queue.js';
export * from './admission.js';
export * from './api.js';
export * from './application.js';
export * from './block-sync.js';
export * from './chain.js';
export * from './emergency-agent.js';
export * from './errors.js';
export * from './fhir/index.js';
export * from './future-buffer.js';
export * from './gatekeeper.js';
export * from './home.js';
export * from './mempool.js';
export * from './messages.js';
export * from './node.js';
export * from './own-tx.js';
export * from './p2p.js';
export * from './ports.js';
export * from './route-deps.js';
export * from './signer-guard.js';
export * from './tendermint.js';
export * from './vault.js';
export * from './vault-sync.js';
export * from './verify-store.js';
