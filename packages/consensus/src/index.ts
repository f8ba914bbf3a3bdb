// @medledger/consensus: Tendermint (arXiv 1807.04938, Algorithm 1) as a pure state machine.
export * from './machine.js';
export * from './proposer.js';
export * from './types.js';
export * from './vote-set.js';
