// A lying node for tests (issue 11, item 6): an HTTP proxy between a client and an honest
// node that passes every exchange through, records what the client sent, and lets a test
// rewrite any answer: a dishonest node, or anyone on the network path. Node-only.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the client sent it. */
export interface SentRequest {
  method: string;
  path: string;
  body: Buffer;
}

/** An honest answer a rewrite may change; returning undefined passes it through unchanged. */
export interface Answer {
  status: number;
  body: string;
}

/** Rewrites one answer; `request` is what the client sent. May be async (e.g. to ask the node more). */
export type Rewrite = (request: SentRequest, answer: Answer) => Answer | undefined | Promise<Answer | undefined>;

export interface LyingProxy {
  /** The proxy's base URL, to give the client instead of the node's. */
  url: string;
  /** Every request the client sent, in order. */
  sent: SentRequest[];
  /** Replace the rewrite (undefined: be honest). */
  lie(rewrite: Rewrite | undefined): void;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Start a proxy on a free loopback port in front of `upstream` (a node's base URL). */
export async function startLyingProxy(upstream: string, rewrite?: Rewrite): Promise<LyingProxy> {
  const base = upstream.replace(/\/+$/, '');
  let current = rewrite;
  const sent: SentRequest[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      try {
        const body = await readBody(req);
        const request: SentRequest = { method: req.method ?? 'GET', path: req.url ?? '/', body };
        sent.push(request);
        const headers: Record<string, string> = {};
        for (const h of ['content-type', 'authorization', 'accept']) {
          const v = req.headers[h];
          if (typeof v === 'string') headers[h] = v;
        }
        const upstreamRes = await fetch(base + request.path, {
          method: request.method,
          headers,
          body: request.method === 'GET' || request.method === 'HEAD' ? undefined : body,
        });
        const honest: Answer = { status: upstreamRes.status, body: await upstreamRes.text() };
        const answer = (current === undefined ? undefined : await current(request, honest)) ?? honest;
        res.writeHead(answer.status, { 'content-type': upstreamRes.headers.get('content-type') ?? 'application/json' });
        res.end(answer.body);
      } catch (err) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'PROXY_ERROR', message: (err as Error).message } }));
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sent,
    lie(r) {
      current = r;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The path without its query string. */
export function pathOf(request: SentRequest): string {
  return request.path.split('?')[0] as string;
}

/** Rewrite a JSON answer with `change` (which edits the parsed value in place or returns a new one). */
// biome-ignore lint/suspicious/noExplicitAny: a lie may rewrite any part of any answer
export function editJson(answer: Answer, change: (json: any) => unknown): Answer {
  const parsed = JSON.parse(answer.body);
  const changed = change(parsed);
  return { status: answer.status, body: JSON.stringify(changed === undefined ? parsed : changed) };
}
