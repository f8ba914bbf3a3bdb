// Typed ledger errors with stable codes, so callers map failures without parsing messages.

export type LedgerErrorCode =
  | 'NOT_CANONICAL'
  | 'MALFORMED_TX'
  | 'MALFORMED_BLOCK'
  | 'MALFORMED_COMMIT'
  | 'MALFORMED_GENESIS'
  | 'BAD_TX_ROOT'
  | 'BAD_LAST_COMMIT'
  | 'BAD_COMMIT'
  | 'WRONG_CHAIN'
  | 'BLOCK_TOO_LARGE'
  /** A header names a validator set other than the one its predecessor proved. */
  | 'BAD_VALIDATORS'
  /** A header names a new validator set whose list was not supplied. */
  | 'VALIDATORS_UNKNOWN';

/** A ledger rule was broken; `code` is stable, `message` names the field or rule. */
export class LedgerError extends Error {
  readonly code: LedgerErrorCode;
  constructor(code: LedgerErrorCode, message: string) {
    super(message);
    this.name = 'LedgerError';
    this.code = code;
  }
}
