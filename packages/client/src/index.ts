// @medledger/client: the SDK for patients, clinicians and organizations — record
// encryption and key envelopes (docs/records.md), transaction bodies, and the API client.
export * from './api.js';
export * from './auth.js';
export * from './categories.js';
export * from './connection.js';
export * from './directory.js';
export * from './emergency.js';
export * from './emergency-reason.js';
export * from './errors.js';
export * from './gov.js';
export * from './gs1.js';
export * from './http.js';
export * from './insurance.js';
export * from './insurance-proofs.js';
export * from './keystore.js';
export * from './light.js';
export * from './medicines.js';
export * from './medicines-notices.js';
export * from './medicines-proven.js';
export * from './paging.js';
export * from './proven-facts.js';
export * from './record-crypto.js';
export * from './responses.js';
export * from './state-proof.js';
export * from './trust.js';
export * from './tx-builders.js';
export * from './verified-reader.js';
