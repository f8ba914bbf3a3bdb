// The node's HTTP API (DESIGN §8): transactions, blocks, status and identities under /v1.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import { isHex } from '@medledger/crypto';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { registerApiCors } from './api-cors.js';
import { registerApiHeaders } from './api-headers.js';
import { ErrorSchema, openApiInfo, SignedTxSchema, schemas } from './api-schemas.js';
import { registerBackupRoutes } from './backup-api.js';
import { blockView } from './chain-view.js';
import { registerDelegateRoutes } from './delegates-api.js';
import { registerDirectoryRoutes } from './directory-api.js';
import { registerEmergencyRoutes } from './emergency-api.js';
import { registerReviewerRoutes } from './emergency-reviewers.js';
import { ApiError } from './errors.js';
import { registerFhirRoutes } from './fhir/routes.js';
import { registerGovRoutes } from './gov-api.js';
import { HEADERS_PAGE, headersPage } from './headers-page.js';
import type { NodeHome } from './home.js';
import { registerInsuranceRoutes } from './insurance-api.js';
import { registerMedicinesRoutes } from './medicines-api.js';
import { registerMethodNotAllowed } from './method-not-allowed.js';
import { registerOpsRoutes } from './ops-api.js';
import { registerRecordRoutes } from './records-api.js';
import type { RouteDeps } from './route-deps.js';
import { registerStateRoutes } from './state-api.js';
import { registerWebStatic } from './web-static.js';

/** Most transactions accepted by one POST /v1/txs/batch. */
export const MAX_BATCH = 500;

/** Parse a path parameter as a positive block height, or throw INVALID_PARAM. */
function parseHeight(raw: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(raw)) throw new ApiError('INVALID_PARAM', 'height must be a positive integer');
  return Number(raw);
}

/** Requests allowed per window: per signed-in identity (by session token), else per client IP. */
export interface RateLimitConfig {
  windowMs: number;
  perIdentity: number;
  perIp: number;
}

/**
 * Defaults a public deployment can keep: 300 requests a second per address without a
 * session (sign-in, status, transaction polling, headers and proofs for light clients, the
 * web app's files) and 500 a second per signed-in identity. The demo's Synthea import (16
 * records in flight, each polled until committed) peaks near a third of the per-address
 * budget. Load generators and benchmarks raise them in their node's `config.json`.
 */
export const DEFAULT_RATE_LIMIT: RateLimitConfig = { windowMs: 10_000, perIdentity: 5_000, perIp: 3_000 };

/** Options of the API server: body limit, rate limits, and TLS (serve HTTPS when given). */
export interface ApiOptions {
  bodyLimit: number;
  rateLimit?: RateLimitConfig;
  https?: { cert: string | Buffer; key: string | Buffer };
}

/** The API options a node home configures; TLS files are read here (relative to the home). */
export function apiOptionsOf(home: NodeHome): ApiOptions {
  const { config } = home;
  const tls = config.tls;
  return {
    bodyLimit: config.bodyLimitBytes,
    ...(config.rateLimit === undefined ? {} : { rateLimit: config.rateLimit }),
    ...(tls === undefined
      ? {}
      : { https: { cert: readFileSync(resolve(home.dir, tls.cert)), key: readFileSync(resolve(home.dir, tls.key)) } }),
  };
}

/**
 * Build the Fastify app for a node. Every error leaves as `{error: {code, message}}` with
 * the status from `statusFor`; stack traces and request bodies never do. Requests are
 * validated against the schemas of api-schemas.ts, which also make `/v1/openapi.json`.
 */
export async function buildApi(node: RouteDeps, opts: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: opts.bodyLimit,
    logger: false,
    // No type coercion: a nonce sent as "1" is malformed, not silently a number.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
    ...(opts.https === undefined ? {} : { https: { cert: opts.https.cert, key: opts.https.key } }),
  }) as unknown as FastifyInstance;
  app.addSchema(SignedTxSchema);
  app.addSchema(ErrorSchema);
  // Both plugins hook route registration, so they are loaded before any route is added.
  await app.register(swagger, openApiInfo);
  const limits = opts.rateLimit ?? DEFAULT_RATE_LIMIT;
  const sessionKey = (authorization: string | undefined) => node.gatekeeper.sessionPublicKey(authorization);
  await app.register(rateLimit, {
    global: true,
    timeWindow: limits.windowMs,
    // The signed-in identity's budget follows its session, whatever address it comes from.
    keyGenerator: (req) => {
      const key = sessionKey(req.headers.authorization);
      return key === undefined ? `ip:${req.ip}` : `id:${key}`;
    },
    max: (req) => (sessionKey(req.headers.authorization) === undefined ? limits.perIp : limits.perIdentity),
    errorResponseBuilder: (_req, context) =>
      new ApiError('RATE_LIMITED', `too many requests: at most ${context.max} per ${context.after}; retry in ${context.after}`),
  });

  // After the rate limit, so preflights count against the caller's budget like any request.
  registerApiCors(app);
  registerApiHeaders(app, { https: opts.https !== undefined });
  registerMethodNotAllowed(app);

  // The API speaks JSON only: anything else is refused with 415 rather than read as text.
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler((err: FastifyError | ApiError, _req, reply) => {
    if (err instanceof ApiError) {
      return reply.status(err.status).send({ error: { code: err.code, message: err.message } });
    }
    const fe = err as FastifyError;
    const mapped: Record<string, [number, string, string]> = {
      FST_ERR_CTP_INVALID_JSON_BODY: [400, 'MALFORMED_JSON', 'request body is not valid JSON'],
      FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'MALFORMED_JSON', 'request body is empty'],
      FST_ERR_CTP_BODY_TOO_LARGE: [413, 'BODY_TOO_LARGE', `request body exceeds ${opts.bodyLimit} bytes`],
      FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'UNSUPPORTED_MEDIA_TYPE', 'send application/json'],
      FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'MALFORMED_JSON', 'content-length does not match the body'],
    };
    if (fe.validation !== undefined) {
      // Schema refusals keep the codes the handlers use: a transaction is MALFORMED_TX, other
      // bodies INVALID_BODY, paths and queries INVALID_PARAM.
      const inBody = fe.validationContext === 'body';
      const txRoute = _req.routeOptions.url === '/v1/txs';
      const code = inBody ? (txRoute ? 'MALFORMED_TX' : 'INVALID_BODY') : 'INVALID_PARAM';
      return reply.status(400).send({ error: { code, message: fe.message } });
    }
    const known = fe.code === undefined ? undefined : mapped[fe.code];
    if (known !== undefined) return reply.status(known[0]).send({ error: { code: known[1], message: known[2] } });
    if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.status(fe.statusCode).send({ error: { code: 'BAD_REQUEST', message: 'the request was not understood' } });
    }
    node.log('error', `internal error serving ${_req.method} ${_req.routeOptions.url ?? ''}: ${fe.name}`);
    return reply.status(500).send({ error: { code: 'INTERNAL', message: 'internal error' } });
  });

  // The web UI answers page and asset GETs; anything else (and all of /v1, /fhir) is the API's 404.
  registerWebStatic(
    app,
    (url, method, reply) => {
      reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route ${method} ${url.split('?')[0]}` } });
    },
    (url, method, reply) => {
      reply.status(404).send({
        error: {
          code: 'NON_CANONICAL_PATH',
          message: `no route ${method} ${url.split('?')[0]}: API paths start /v1/ or /fhir/, in lowercase, with single slashes`,
        },
      });
    },
  );

  app.get('/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.post('/v1/txs', { schema: schemas.submitTx }, async (req, reply) => {
    const accepted = node.submitTx(req.body);
    return reply.status(202).send(accepted);
  });

  // Up to MAX_BATCH transactions in one request, each admitted or refused on its own:
  // load generators and gateways save a round trip per transaction.
  app.post('/v1/txs/batch', { schema: schemas.submitBatch }, async (req, reply) => {
    const body = req.body as { txs?: unknown };
    if (typeof body !== 'object' || body === null || !Array.isArray(body.txs))
      throw new ApiError('INVALID_BODY', 'body.txs must be an array of signed transactions');
    if (body.txs.length > MAX_BATCH) throw new ApiError('INVALID_BODY', `at most ${MAX_BATCH} transactions per batch`);
    const results = body.txs.map((raw) => {
      try {
        return node.submitTx(raw);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        return { status: 'refused', error: { code: err.code, message: err.message } };
      }
    });
    return reply.status(200).send({ results });
  });

  // Chain reads are open to anonymous callers, but what they show depends on who asks
  // (chain-view.ts): a session, when sent, must be valid (401 otherwise, never a silent downgrade).
  const optionalCaller = (authorization: string | undefined) =>
    authorization === undefined ? undefined : node.gatekeeper.authenticate(authorization);

  // Status and proof for anyone who can name the hash (a tx hash commits to the whole signed
  // transaction, so only its holders know it); the transaction itself only to its parties
  // and the consortium.
  app.get<{ Params: { hash: string } }>('/v1/txs/:hash', { schema: schemas.txStatus }, async (req) => {
    const { hash } = req.params;
    if (!isHex(hash, 32)) throw new ApiError('INVALID_PARAM', 'hash must be 32-byte hex');
    return node.txStatus(hash, optionalCaller(req.headers.authorization));
  });

  app.get<{ Params: { height: string } }>('/v1/blocks/:height', { schema: schemas.block }, async (req) => {
    const caller = optionalCaller(req.headers.authorization);
    const height = req.params.height === 'latest' ? node.chain.height : parseHeight(req.params.height);
    // Under CometBFT the block is CometBFT's: its signed header and commit (abci/comet-blocks.ts).
    if (node.engineName === 'cometbft' && node.cometBlock !== undefined) {
      if (height === 0 || height > node.chain.height) throw new ApiError('BLOCK_NOT_FOUND', `no block at height ${req.params.height}`);
      return node.cometBlock(height, caller);
    }
    const provable = height === 0 ? undefined : node.blocks.get(height);
    if (provable === undefined) throw new ApiError('BLOCK_NOT_FOUND', `no block at height ${req.params.height}`);
    return blockView(node.chain.state, provable.stored, caller, provable.leaves);
  });

  app.get<{ Querystring: { from: string; limit?: string } }>('/v1/headers', { schema: schemas.headers }, async (req) => {
    const from = parseHeight(req.query.from);
    const limit = req.query.limit === undefined ? HEADERS_PAGE : Number(req.query.limit);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > HEADERS_PAGE)
      throw new ApiError('INVALID_PARAM', `limit must be an integer from 1 to ${HEADERS_PAGE}`);
    // Under CometBFT the headers are CometBFT's, which a client pinned to such a genesis walks.
    if (node.engineName === 'cometbft' && node.cometHeaders !== undefined) {
      const tip = node.chain.height;
      const last = Math.min(tip, from + limit - 1);
      const headers = from > last ? [] : await node.cometHeaders(from, last);
      return { headers, next: from + headers.length <= tip ? from + headers.length : null };
    }
    return headersPage(node.chain, from, limit);
  });

  app.get('/v1/status', { schema: schemas.status }, async () => node.status());
  app.get('/v1/genesis', { schema: schemas.genesis }, async () => node.chain.genesis);

  app.get<{ Params: { publicKey: string } }>('/v1/accounts/:publicKey', { schema: schemas.account }, async (req) => {
    const { publicKey } = req.params;
    if (!isHex(publicKey, 32)) throw new ApiError('INVALID_PARAM', 'publicKey must be 32-byte hex');
    return node.account(publicKey);
  });

  app.get<{ Params: { id: string } }>('/v1/identities/:id', { schema: schemas.identity }, async (req) => {
    const { id } = req.params;
    if (!isHex(id, 20)) throw new ApiError('INVALID_PARAM', 'id must be 20-byte hex');
    const identity = node.chain.app.queries.identity(id);
    if (identity === undefined) throw new ApiError('IDENTITY_NOT_FOUND', `no identity ${id}`);
    return identity;
  });

  registerRecordRoutes(app, node, node.gatekeeper);
  registerDelegateRoutes(app, node, node.gatekeeper);
  registerEmergencyRoutes(app, node, node.gatekeeper);
  registerStateRoutes(app, node, node.gatekeeper);
  registerInsuranceRoutes(app, node, node.gatekeeper);
  registerMedicinesRoutes(app, node, node.gatekeeper);
  registerReviewerRoutes(app, node, node.gatekeeper);
  registerDirectoryRoutes(app, node, node.gatekeeper);
  registerGovRoutes(app, node, node.gatekeeper);
  registerBackupRoutes(app, node);
  registerOpsRoutes(app, node.metrics, {
    started: () => node.running,
    height: () => node.chain.height,
    peers: () => node.peerCounts(),
  });
  registerFhirRoutes(app, node);
  return app;
}
