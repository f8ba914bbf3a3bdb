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

// ---- The lies of issue 11 item 6, shared by the SDK, CLI and web app tests ----------------

/** Whether the client asked for state proofs (`POST /v1/state/proofs`). */
export function isProofRequest(request: SentRequest): boolean {
  return request.method === 'POST' && pathOf(request) === '/v1/state/proofs';
}

/** A lie told in every successful proof answer: `change` edits the parsed answer. */
// biome-ignore lint/suspicious/noExplicitAny: a lie may rewrite any part of a proof answer
export function onProofs(change: (json: any) => unknown): Rewrite {
  return (request, answer) => (isProofRequest(request) && answer.status === 200 ? editJson(answer, change) : undefined);
}

/** Keys: `from` (a public key) becomes `to` in every answer, in the lists and in the proven values alike. */
export function swapEverywhere(from: string, to: string): Rewrite {
  return (_request, answer) => ({ status: answer.status, body: answer.body.replaceAll(from, to) });
}

/** Recipient lists: the node adds `id` (with its key) to every recipient list it gives. */
export function addRecipient(id: string, encryptionKey: string): Rewrite {
  return (request, answer) =>
    pathOf(request).endsWith('/recipients') && answer.status === 200
      ? editJson(answer, (j) => {
          j.recipients.push({ to: id, encryptionKey, why: 'grantee' });
        })
      : undefined;
}

/** Validator keys: every validator's encryption key in the emergency parameters becomes `key`. */
export function substituteValidatorKeys(key: string): Rewrite {
  return (request, answer) =>
    pathOf(request) === '/v1/emergency/params' && answer.status === 200
      ? editJson(answer, (j) => {
          for (const v of j.validators) v.encryptionKey = key;
        })
      : undefined;
}

/** Grants: every listed grant's scope also covers `category`. */
export function widenGrants(category: string): Rewrite {
  return (request, answer) =>
    pathOf(request).endsWith('/grants') && answer.status === 200
      ? editJson(answer, (j) => {
          for (const g of j.grants) g.scope.categories.push(category);
        })
      : undefined;
}

/** Grants: every grant naming `grantee` is left out of the patient's grant lists. */
export function hideGrantsTo(grantee: string): Rewrite {
  return (request, answer) =>
    pathOf(request).endsWith('/grants') && answer.status === 200
      ? editJson(answer, (j) => {
          j.grants = j.grants.filter((g: { grantee: string }) => g.grantee !== grantee);
        })
      : undefined;
}

/** Delegates: `delegate` is left out of every delegates list. */
export function hideDelegate(delegate: string): Rewrite {
  return (request, answer) =>
    pathOf(request).endsWith('/delegates') && answer.status === 200
      ? editJson(answer, (j) => {
          j.delegates = j.delegates.filter((d: { delegate: string }) => d.delegate !== delegate);
        })
      : undefined;
}

/** Commit signatures: the first signature of every proven commit gets one hex digit changed. */
export const flipCommitSignature: Rewrite = onProofs((j) => {
  const sig: string = j.commit.signatures[0].sig;
  j.commit.signatures[0].sig = (sig[0] === '0' ? '1' : '0') + sig.slice(1);
});

/** Proofs: the first sibling hash of the first entry's proof is altered (or one added). */
export const alterProof: Rewrite = onProofs((j) => {
  const e = j.entries[0];
  if (e.proof.siblings.length > 0) e.proof.siblings[0] = (e.proof.siblings[0][0] === 'f' ? 'e' : 'f') + e.proof.siblings[0].slice(1);
  else e.proof.siblings.push('ff'.repeat(32));
});

/** Heights, stale: remembers honest proof answers while `recording`, and later replays them for the same question. */
export function staleHeights(): { record: Rewrite; replay: Rewrite; kept: Map<string, Answer> } {
  const kept = new Map<string, Answer>();
  return {
    kept,
    record: (request, answer) => {
      if (isProofRequest(request) && answer.status === 200) kept.set(request.body.toString('utf8'), answer);
      return undefined;
    },
    replay: (request) => (isProofRequest(request) ? kept.get(request.body.toString('utf8')) : undefined),
  };
}

/** What the client wrote meanwhile: vault uploads and submitted transactions, as `METHOD path`. */
export function writesIn(sent: readonly SentRequest[]): string[] {
  return sent
    .filter((r) => (r.method === 'PUT' && pathOf(r).startsWith('/v1/vault/')) || (r.method === 'POST' && pathOf(r).startsWith('/v1/txs')))
    .map((r) => `${r.method} ${pathOf(r)}`);
}

/** The requests whose body carries `text` (e.g. an attacker's public key), as `METHOD path`. */
export function carrying(sent: readonly SentRequest[], text: string): string[] {
  return sent.filter((r) => r.body.toString('utf8').includes(text)).map((r) => `${r.method} ${pathOf(r)}`);
}
