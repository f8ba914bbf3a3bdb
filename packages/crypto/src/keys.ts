// A participant's key bundle: an Ed25519 signing key and an X25519 encryption key (DESIGN §3).
import { generateSigningKeyPair, type SigningKeyPair } from './ed25519.js';
import { type EncryptionKeyPair, generateEncryptionKeyPair } from './x25519.js';

export interface KeyBundle {
  signing: SigningKeyPair;
  encryption: EncryptionKeyPair;
}

/** Generate a fresh signing and encryption key pair. */
export function generateKeyBundle(): KeyBundle {
  return { signing: generateSigningKeyPair(), encryption: generateEncryptionKeyPair() };
}
