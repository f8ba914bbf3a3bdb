// Small JSON-over-HTTP helpers for the CLI, with the API's error shape turned into errors.
import http from 'node:http';
import https from 'node:https';

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

// node:http with kept-alive sockets rather than fetch: the load generator shares the machine
// with the nodes it measures, and fetch cost it about 1.7 ms of CPU per request (WHATWG
// streams and headers), a third of a core at 200 single-transaction requests per second.
// Idle kept-alive sockets are unreferenced by the agent, so they never hold a command open.
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

/** GET or POST JSON; throws NodeApiError for a non-2xx answer, and an error after 30 s. */
export function requestJson<T>(url: string, init?: { method?: string; body?: unknown }): Promise<T> {
  const target = new URL(url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new TypeError(`not an http(s) URL: ${url}`);
  const body = init?.body === undefined ? undefined : JSON.stringify(init.body);
  const method = init?.method ?? (body === undefined ? 'GET' : 'POST');
  const headers: Record<string, string | number> =
    body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
  return new Promise<T>((resolvePromise, reject) => {
    const req = (target.protocol === 'https:' ? https : http).request(
      target,
      { method, headers, agent: target.protocol === 'https:' ? agents['https:'] : agents['http:'] },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text === '' ? undefined : JSON.parse(text);
          } catch {
            reject(new NodeApiError(status, 'BAD_RESPONSE', `node answered ${status} with non-JSON`));
            return;
          }
          if (status < 200 || status > 299) {
            const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
            reject(new NodeApiError(status, err?.code ?? 'HTTP_ERROR', err?.message ?? `HTTP ${status}`));
            return;
          }
          resolvePromise(json as T);
        });
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`${method} ${target.origin}${target.pathname}: no answer within 30 s`)));
    req.on('error', reject);
    req.end(body);
  });
}
