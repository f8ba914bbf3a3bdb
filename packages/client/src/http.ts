// One HTTP exchange with a node's /v1 API over global `fetch`: JSON or raw bytes out, JSON
// back, and every failure turned into a ClientError in this one place.
import { ClientError } from './errors.js';

/** What one request sends: a JSON body, or raw bytes (as application/octet-stream). */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  json?: unknown;
  bytes?: Uint8Array;
  /** Session token for `Authorization: Bearer`. */
  token?: string;
}

/**
 * Send one request to `baseUrl + path` and return the parsed JSON answer. Throws
 * ClientError: the API's `{error: {code, message}}` with the HTTP status; `HTTP_ERROR` for an
 * error status without that body; `MALFORMED_RESPONSE` for a success that is not JSON;
 * `NETWORK` (status 0) when no answer came. A 204 (no content) answers undefined.
 */
export async function sendRequest(fetchFn: typeof fetch, baseUrl: string, req: HttpRequest): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json' };
  let body: string | Uint8Array | undefined;
  if (req.bytes !== undefined) {
    headers['content-type'] = 'application/octet-stream';
    body = req.bytes;
  } else if (req.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(req.json);
  }
  if (req.token !== undefined) headers.authorization = `Bearer ${req.token}`;
  let res: Response;
  let text: string;
  try {
    res = await fetchFn(baseUrl + req.path, { method: req.method, headers, body: body as RequestInit['body'] });
    text = await res.text();
  } catch (err) {
    throw new ClientError('NETWORK', `${req.method} ${req.path}: no answer from ${baseUrl} (${(err as Error).message})`, 0, { cause: err });
  }
  let parsed: unknown;
  let isJson = text.length > 0;
  if (isJson) {
    try {
      parsed = JSON.parse(text);
    } catch {
      isJson = false;
    }
  }
  if (!res.ok) {
    const error = isJson ? (parsed as { error?: { code?: unknown; message?: unknown } } | null)?.error : undefined;
    if (typeof error?.code === 'string') {
      throw new ClientError(error.code, typeof error.message === 'string' ? error.message : error.code, res.status);
    }
    throw new ClientError('HTTP_ERROR', `${req.method} ${req.path} answered HTTP ${res.status}`, res.status);
  }
  if (res.status === 204) return undefined;
  if (!isJson) throw new ClientError('MALFORMED_RESPONSE', `${req.method} ${req.path} did not answer JSON`, res.status);
  return parsed;
}
