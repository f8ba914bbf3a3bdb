// Typed crypto errors with stable codes, so callers (and the HTTP layer) branch on `code`,
// never on message text. Messages never contain key material or plaintext.

/**
 * Stable error codes:
 * - `DECRYPT_FAILED`: an envelope or AEAD box could not be opened — wrong key, or any change
 *   to ciphertext, tag, IV, ephemeral key, AAD or context. Deliberately one code for all, so
 *   a caller cannot be used as an oracle for which part was altered.
 * - `BAD_PASSPHRASE`: a keystore did not open — wrong passphrase, or its contents were edited.
 * - `KEYSTORE_FORMAT`: a keystore file is malformed or of an unknown version, or the options
 *   given to write one would produce a file that cannot be read back.
 * - `BAD_ENVELOPE`: a value at a boundary is not a well-formed envelope (see `validateEnvelope`).
 * - `BAD_KEY`: a key given by the caller is malformed (wrong length, not hex, low-order point,
 *   or a key pair whose halves do not match).
 * - `SHAMIR`: bad secret-sharing parameters or shares.
 */
export type CryptoErrorCode = 'DECRYPT_FAILED' | 'BAD_PASSPHRASE' | 'KEYSTORE_FORMAT' | 'BAD_ENVELOPE' | 'BAD_KEY' | 'SHAMIR';

/** The one error type of `@medledger/crypto` for failures that callers are expected to handle. */
export class CryptoError extends Error {
  readonly code: CryptoErrorCode;
  constructor(code: CryptoErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CryptoError';
    this.code = code;
  }
}
