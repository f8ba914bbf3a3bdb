// FHIR errors (R4 §3.1.0.5 "OperationOutcome"): one error type, turned into an
// OperationOutcome with its HTTP status in one place, never with record contents.
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { ApiError } from '../errors.js';

/** FHIR issue-type codes this endpoint uses (http://hl7.org/fhir/issue-type). */
export type IssueCode =
  | 'invalid'
  | 'structure'
  | 'required'
  | 'value'
  | 'code-invalid'
  | 'login'
  | 'forbidden'
  | 'not-found'
  | 'deleted'
  | 'conflict'
  | 'not-supported'
  | 'too-costly'
  | 'throttled'
  | 'processing'
  | 'transient'
  | 'exception'
  | 'security';

/** An error the FHIR endpoint answers as an OperationOutcome with `status`. */
export class FhirError extends Error {
  constructor(
    readonly status: number,
    readonly code: IssueCode,
    message: string,
    readonly issues: OperationOutcomeIssue[] = [],
  ) {
    super(message);
    this.name = 'FhirError';
  }
}

/**
 * A record filed under other labels than it was written with (RECORD_MISLABELED, 422). A read
 * refuses it; a search skips it and serves the rest (routes.ts).
 */
export class MislabeledRecordError extends FhirError {
  constructor(
    readonly record: string,
    message: string,
  ) {
    super(422, 'processing', `RECORD_MISLABELED: ${message}`);
    this.name = 'MislabeledRecordError';
  }
}

/** An OperationOutcome with one error issue, plus any detailed issues. */
export function operationOutcome(code: IssueCode, diagnostics: string, issues: OperationOutcomeIssue[] = []): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.length > 0 ? issues : [{ severity: 'error', code, diagnostics }],
  };
}

const ISSUE_BY_STATUS: Record<number, IssueCode> = {
  400: 'invalid',
  401: 'login',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
  410: 'deleted',
  413: 'too-costly',
  415: 'not-supported',
  422: 'processing',
  429: 'transient',
  503: 'transient',
};

/**
 * Status and OperationOutcome for any error thrown while serving a FHIR request: FhirError
 * as is, the node's ApiError by its status (its stable code in `details`), anything else
 * as a 500 that says nothing of the request.
 */
export function outcomeFor(err: unknown): { status: number; outcome: OperationOutcome; internal: boolean } {
  if (err instanceof FhirError)
    return { status: err.status, outcome: operationOutcome(err.code, err.message, err.issues), internal: false };
  if (err instanceof ApiError) {
    const code = ISSUE_BY_STATUS[err.status] ?? (err.status >= 500 ? 'exception' : 'invalid');
    return {
      status: err.status,
      outcome: {
        resourceType: 'OperationOutcome',
        issue: [
          { severity: 'error', code, diagnostics: err.message, details: { coding: [{ system: 'urn:medledger:error', code: err.code }] } },
        ],
      },
      internal: false,
    };
  }
  const fe = err as { code?: string; statusCode?: number };
  const known: Record<string, [number, IssueCode, string]> = {
    FST_ERR_CTP_INVALID_JSON_BODY: [400, 'structure', 'request body is not valid JSON'],
    FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'structure', 'request body is empty'],
    FST_ERR_CTP_BODY_TOO_LARGE: [413, 'too-costly', 'request body is too large'],
    FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'not-supported', 'send application/fhir+json'],
  };
  const k = fe.code === undefined ? undefined : known[fe.code];
  if (k !== undefined) return { status: k[0], outcome: operationOutcome(k[1], k[2]), internal: false };
  if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500)
    return { status: fe.statusCode, outcome: operationOutcome('invalid', 'the request was not understood'), internal: false };
  return { status: 500, outcome: operationOutcome('exception', 'internal error'), internal: true };
}
