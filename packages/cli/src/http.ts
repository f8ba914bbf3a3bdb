// Small JSON-over-HTTP helpers for the CLI, with the API's error shape turned into errors.

/** An error response from a node, with its stable code and HTTP status. */
export class NodeApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'NodeApiError';
  }
}

/** How long one request may take before it is abandoned (a stuck socket must not hang a run). */
const REQUEST_TIMEOUT_MS = 30_000;

/** GET or POST JSON; throws NodeApiError for a non-2xx answer, and an error after 30 s. */
export async function requestJson<T>(url: string, init?: { method?: string; body?: unknown }): Promise<T> {
  const res = await fetch(url, {
    method: init?.method ?? (init?.body === undefined ? 'GET' : 'POST'),
    headers: init?.body === undefined ? {} : { 'content-type': 'application/json' },
    body: init?.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    throw new NodeApiError(res.status, 'BAD_RESPONSE', `node answered ${res.status} with non-JSON`);
  }
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new NodeApiError(res.status, err?.code ?? 'HTTP_ERROR', err?.message ?? `HTTP ${res.status}`);
  }
  return json as T;
}
