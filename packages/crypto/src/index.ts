// @medledger/crypto: the primitives every other package signs, hashes and encrypts with.
// Node entry (node:crypto); `@medledger/crypto/browser` offers the same formats for browsers.
export * from './bytes.js';
export * from './ed25519.js';
export * from './envelope.js';
export * from './errors.js';
export * from './hash.js';
export * from './hex-at.js';
export * from './keystore.js';
export * from './shamir.js';
export * from './small-order.js';
export * from './x25519.js';
