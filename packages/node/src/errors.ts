// API errors with stable codes, and the one place codes become HTTP statuses.

/** An error the API reports as `{error: {code, message}}`. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = statusFor(code),
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const STATUS_BY_CODE: Record<string, number> = {
  MALFORMED_JSON: 400,
  MALFORMED_TX: 400,
  INVALID_BODY: 400,
  INVALID_PARAM: 400,
  UNKNOWN_KIND: 400,
  WRONG_CHAIN: 400,
  BAD_SIGNATURE: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  NONCE_REUSED: 409,
  NONCE_GAP: 409,
  ALREADY_REGISTERED: 409,
  UNKNOWN_SIGNER: 403,
  UNAUTHORIZED: 403,
  EVIDENCE_KNOWN: 409,
  WEAK_KEY: 400,
  NOT_FOUND: 404,
  TX_NOT_FOUND: 404,
  BLOCK_NOT_FOUND: 404,
  IDENTITY_NOT_FOUND: 404,
  BODY_TOO_LARGE: 413,
  HASH_MISMATCH: 400,
  OBJECT_TOO_LARGE: 413,
  MEMPOOL_FULL: 503,
  OBJECT_UNAVAILABLE: 503,
  INTERNAL: 500,
  UNAUTHENTICATED: 401,
  SESSION_EXPIRED: 401,
  AUTH_FAILED: 401,
  UNKNOWN_IDENTITY: 403,
  ACCESS_DENIED: 403,
  REVOKED: 403,
  RECORD_ERASED: 410,
  NO_ENVELOPE: 409,
  ORGANIZATION_KEY: 409,
  RECORD_EXISTS: 409,
  GRANT_INACTIVE: 409,
  DELEGATE_EXISTS: 409,
  DELEGATE_PENDING: 409,
  RECIPIENT_NOT_ALLOWED: 403,
  RECIPIENT_MISSING: 409,
  RATE_LIMITED: 429,
  NO_EMERGENCY_KEY: 409,
  WINDOW_ACTIVE: 409,
  WINDOW_CLOSED: 409,
  SHARE_POSTED: 409,
  KEY_NOT_SERVED: 403,
  NO_COMMITTED_BLOCK: 503,
  NO_CONSENT: 403,
  WRONG_STATE: 409,
  DISPUTE_WINDOW_CLOSED: 409,
  AMOUNT_MISMATCH: 409,
  // Medicines (docs/medicines.md): the request was well formed but the ledger's state refuses it.
  DUPLICATE_EVENT: 409,
  NOT_HOLDER: 403,
  NOT_ADDRESSEE: 403,
  PACKED: 409,
  CASE_BROKEN: 409,
  NOT_VERIFIED: 409,
  WRONG_PRODUCT: 409,
  RX_INACTIVE: 409,
  RX_NO_FILLS: 409,
  TOO_EARLY: 409,
  CONTROLLED_NO_REPEATS: 409,
};

/** HTTP status for a stable error code; unknown codes are client errors (400). */
export function statusFor(code: string): number {
  return STATUS_BY_CODE[code] ?? 400;
}
