// The browser-safe entry, `@medledger/crypto/browser`: the same keys, signatures, envelopes
// and keystore files as the Node entry, on @noble/* and WebCrypto getRandomValues, with no
// node: imports anywhere in its module graph (browser-safety.test.ts checks that).
// Differences from the Node entry: keystore functions return promises; no Shamir sharing.
export { bytesEqual, concatBytes, fromHex, isHex, toHex, utf8 } from './browser-bytes.js';
export { generateSigningKeyPair, publicKeyFromPrivate, type SigningKeyPair, signEd25519, verifyEd25519 } from './browser-ed25519.js';
export {
  aeadDecrypt,
  aeadEncrypt,
  type EncryptionKeyPair,
  encryptionPublicKeyFromPrivate,
  generateDataKey,
  generateEncryptionKeyPair,
  openEnvelope,
  sealToPublicKey,
} from './browser-envelope.js';
export { idFromPublicKey, sha256, sha256Hex, sha256HexOfText } from './browser-hash.js';
export { decryptKeystore, encryptKeystore, generateKeyBundle, type KeyBundle } from './browser-keystore.js';
export { type AeadBox, ENVELOPE_ALG, type Envelope, KEY_ENVELOPE_BYTES, validateEnvelope } from './envelope-format.js';
export { CryptoError, type CryptoErrorCode } from './errors.js';
export { hexAt, writeHexAt } from './hex-at.js';
export { DEFAULT_SCRYPT_N, type KeystoreFile, validateKeystore } from './keystore-format.js';
export { combineShares, dealSecret, interpolateAtZero, type Share, shareCommitment, splitSecret, verifyShare } from './shamir.js';
