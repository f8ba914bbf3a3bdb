// @medledger/ehr: the health-record application state machine.
export * from './app.js';
export * from './errors.js';
export * from './evidence.js';
export * from './identity.js';
export * from './kinds.js';
export * from './state.js';
