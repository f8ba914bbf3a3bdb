// Typed crypto errors with stable codes.

export type CryptoErrorCode = 'DECRYPT_FAILED' | 'BAD_PASSPHRASE' | 'KEYSTORE_FORMAT' | 'BAD_ENVELOPE' | 'BAD_KEY' | 'SHAMIR';

export class CryptoError extends Error {
  readonly code: CryptoErrorCode;
  constructor(code: CryptoErrorCode, message: string) {
    super(message);
    this.name = 'CryptoError';
    this.code = code;
  }
}
