// @medledger/crypto: the primitives every other package signs, hashes and encrypts with.
export * from './bytes.js';
export * from './ed25519.js';
export * from './hash.js';
export * from './keys.js';
export * from './x25519.js';
