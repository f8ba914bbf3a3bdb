// @medledger/ehr: the health-record application state machine.
export * from './access.js';
export * from './app.js';
export * from './body.js';
export * from './consent.js';
export * from './delegates.js';
export * from './emergency.js';
export * from './errors.js';
export * from './evidence.js';
export * from './identity.js';
export * from './kinds.js';
export * from './policy.js';
export * from './recipients.js';
export * from './records.js';
export * from './staff.js';
export * from './state.js';
