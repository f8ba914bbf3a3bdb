// One request to a node's FHIR R4 endpoint, for the SDK's proven FHIR reads (insurance
// searches, eligibility): the URL under the node's `/fhir/R4` and the answer's resource or
// the endpoint's refusal as a ClientError. What the answer says is the callers' to prove.
import type { NodeConnection } from './connection.js';
import { ClientError } from './errors.js';

type Json = Record<string, unknown>;

/** `path` under `fhirBase`, or under the node's own `/fhir/R4`. */
export function fhirUrl(conn: NodeConnection, fhirBase: string | undefined, path: string): string {
  return `${(fhirBase ?? `${conn.url.replace(/\/+$/, '')}/fhir/R4`).replace(/\/+$/, '')}/${path}`;
}

/**
 * The JSON object the endpoint answers. Throws ClientError: HTTP_ERROR with the status and
 * the OperationOutcome's first issue for a refusal; MALFORMED_RESPONSE for an answer that is
 * not JSON or not an object (`noResource` says what was expected).
 */
export async function fhirResource(fetchFn: typeof fetch, url: string, init: RequestInit, noResource: string): Promise<Json> {
  const res = await fetchFn(url, init);
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new ClientError('MALFORMED_RESPONSE', `the FHIR endpoint answered ${res.status} without JSON`, res.status);
  }
  if (!res.ok) {
    const issue = ((body as Json | null)?.issue as Json[] | undefined)?.[0];
    throw new ClientError(
      'HTTP_ERROR',
      `the FHIR endpoint refused (${res.status}): ${String(issue?.diagnostics ?? issue?.code ?? 'no reason')}`,
      res.status,
    );
  }
  if (typeof body !== 'object' || body === null) throw new ClientError('MALFORMED_RESPONSE', noResource);
  return body as Json;
}
