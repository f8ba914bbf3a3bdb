// Typed application errors: every rejected transaction carries one of these stable codes.

/** Stable codes for transactions the application refuses (DESIGN §4). */
export type EhrErrorCode =
  | 'MALFORMED_TX'
  | 'WRONG_CHAIN'
  | 'BAD_SIGNATURE'
  | 'UNKNOWN_KIND'
  | 'NONCE_REUSED'
  | 'NONCE_GAP'
  | 'INVALID_BODY'
  | 'ALREADY_REGISTERED'
  | 'UNKNOWN_SIGNER'
  | 'NOT_FOUND'
  | 'UNAUTHORIZED'
  | 'EVIDENCE_KNOWN'
  | 'WEAK_KEY'
  | 'REVOKED'
  | 'RECORD_EXISTS'
  | 'RECORD_ERASED'
  | 'GRANT_INACTIVE'
  | 'DELEGATE_EXISTS'
  | 'DELEGATE_PENDING'
  | 'RECIPIENT_NOT_ALLOWED'
  | 'RECIPIENT_MISSING'
  | 'NO_EMERGENCY_KEY'
  | 'WINDOW_ACTIVE'
  | 'WINDOW_CLOSED'
  | 'SHARE_POSTED'
  | 'RESHARE_STALE'
  | 'OBJECT_IN_USE'
  // Insurance (docs/insurance.md)
  | 'NO_CONSENT'
  | 'WRONG_STATE'
  | 'DISPUTE_WINDOW_CLOSED'
  | 'AMOUNT_MISMATCH'
  | 'DUPLICATE_COVERAGE'
  | 'FUTURE_SERVICE_DATE'
  // Medicines (docs/medicines.md)
  | 'DUPLICATE_EVENT'
  | 'NOT_HOLDER'
  | 'NOT_ADDRESSEE'
  | 'PACKED'
  | 'CASE_BROKEN'
  | 'NOT_VERIFIED'
  | 'WRONG_PRODUCT'
  | 'PRODUCT_NOT_PRESCRIBABLE'
  | 'PRODUCT_DETAIL_FIXED'
  | 'RX_INACTIVE'
  | 'RX_NO_FILLS'
  | 'TOO_EARLY'
  | 'CONTROLLED_NO_REPEATS'
  | 'RETURN_NOT_VERIFIED'
  // Governance (docs/governance.md)
  | 'ALREADY_VOTED'
  | 'PROPOSAL_CLOSED'
  | 'TOO_MANY_PROPOSALS';

/** An application-level refusal with a stable code and a reason safe to show users. */
export class EhrError extends Error {
  readonly code: EhrErrorCode;
  constructor(code: EhrErrorCode, message: string) {
    super(message);
    this.name = 'EhrError';
    this.code = code;
  }
}
