// The one error type of the client SDK: API refusals, rejected transactions and local checks,
// each with a stable code so callers branch on `code`, never on message text.

/**
 * Codes the client itself raises; every other code is the node's, passed through unchanged
 * (e.g. `ACCESS_DENIED`, `RECORD_ERASED`, `NONCE_GAP`, or a rejected transaction's code).
 * - `NETWORK`: the request never got an HTTP answer (refused connection, DNS, abort).
 * - `MALFORMED_RESPONSE`: the node answered something this client cannot read.
 * - `CONTENT_HASH_MISMATCH`: a record's ciphertext does not hash to its on-chain contentHash.
 * - `RECORD_MISLABELED`: a record does not decrypt under the category, type, patient and id it is anchored with.
 * - `VAULT_HASH_MISMATCH`: the vault stored an upload under another hash than ours.
 * - `BAD_PROOF`: a committed transaction's inclusion proof does not verify.
 * - `TX_TIMEOUT`: a transaction was neither committed nor rejected in time.
 * - `INVALID_ARGUMENT`: a caller's argument cannot make a valid transaction or request.
 * - `HTTP_ERROR`: an error status without the API's `{error: {code, message}}` body.
 * - `EPCIS_NOT_SUPPORTED`: a valid EPCIS 2.0 document (or event) MedLedger does not record
 *   (docs/medicines.md "EPCIS capture").
 */
export type ClientErrorCode =
  | 'NETWORK'
  | 'MALFORMED_RESPONSE'
  | 'CONTENT_HASH_MISMATCH'
  | 'RECORD_MISLABELED'
  | 'VAULT_HASH_MISMATCH'
  | 'BAD_PROOF'
  | 'TX_TIMEOUT'
  | 'INVALID_ARGUMENT'
  | 'HTTP_ERROR'
  | 'EPCIS_NOT_SUPPORTED';

/**
 * An API refusal (`code` and `message` from the `{error: {code, message}}` body, `status`
 * the HTTP status), a rejected transaction (its result code and reason, `status` 0), or a
 * client-side check (a ClientErrorCode, `status` 0 unless an HTTP answer caused it).
 */
export class ClientError extends Error {
  readonly code: ClientErrorCode | (string & {});
  readonly status: number;
  constructor(code: ClientErrorCode | (string & {}), message: string, status = 0, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ClientError';
    this.code = code;
    this.status = status;
  }
}

/** True when `err` is a ClientError with one of `codes`. Does not throw. */
export function hasClientCode(err: unknown, ...codes: string[]): err is ClientError {
  return err instanceof ClientError && codes.includes(err.code);
}
