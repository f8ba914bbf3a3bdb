// The FHIR R4 endpoint under /fhir/R4 (DESIGN §8), served for the organization whose keys
// this node is configured with: SMART Backend Services tokens, create/read/vread/update,
// search, transaction Bundles, and the custody claim of patient identities.
import { join, resolve } from 'node:path';
import { ClientError, claimFieldsOf } from '@medledger/client';
import { idFromPublicKey } from '@medledger/crypto';
import { claimResponseOf, PURPOSES, type Purpose, type RecordMeta } from '@medledger/ehr';
import { isResourceType } from '@medplum/core';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readOrgKey } from '../home.js';
import type { RouteDeps } from '../route-deps.js';
import { OrgAgent } from './agent.js';
import { type FhirCaller, isSystemScope, OAuthError, SmartAuth, scopeAllows } from './auth.js';
import { processTransaction } from './bundle.js';
import { capabilityStatement } from './capability.js';
import { claimPatient } from './claim.js';
import { CustodyStore } from './custody.js';
import { coverageEligibility, coverageIdsFrom, submitFhirClaim } from './insurance.js';
import { explanationOfBenefit, searchClaimResponses, searchExplanationsOfBenefit, visibleClaim } from './insurance-search.js';
import { parseFhirJson } from './json.js';
import { isLedgerMedicationId, readLedgerMedication, searchLedgerDispenses } from './medicines.js';
import { FhirError, MislabeledRecordError, outcomeFor } from './outcome.js';
import { FhirRepository, patientReferenced } from './repository.js';
import { matchesDates, parseSearch, type SearchQuery, typeHasDate } from './search.js';
import { loadFhirDefinitions, validateFhirResource } from './validate.js';

export const FHIR_PREFIX = '/fhir/R4';
export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/** `config.json` → `fhir`: which organization this node serves FHIR for. */
export interface FhirConfig {
  /** Node home whose `org.key` holds the organization's keys (default: this node's home). */
  orgKeyHome: string;
  /**
   * Public base URL, e.g. `https://fhir.example.org/fhir/R4`: the token audience and every
   * URL the endpoint advertises. Required unless the API listens on loopback, where it
   * defaults to the bound address (never to a request's Host header).
   */
  baseUrl?: string;
  /** Largest FHIR request body (bytes); default 16 MiB, for transaction Bundles. */
  bodyLimitBytes: number;
  /**
   * Registered SMART backend clients: identity id (40 hex) → the scopes it may be granted
   * (`"system/*.rs"`). A listed identity gets at most these; an unlisted one any system scope
   * it asks for, unless `smartClientsOnly`.
   */
  smartClients: ReadonlyMap<string, readonly string[]>;
  /** Only identities listed in `smartClients` get tokens (default false). */
  smartClientsOnly: boolean;
}

/** `config.fhir.smartClients` as a map; throws Error naming the entry that is wrong. */
function parseSmartClients(raw: unknown): Map<string, string[]> {
  const clients = new Map<string, string[]>();
  if (raw === undefined) return clients;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new Error('config.fhir.smartClients must be an object: identity id (40 hex) → scopes, e.g. {"<id>": "system/*.rs"}');
  for (const [id, value] of Object.entries(raw)) {
    if (!/^[0-9a-f]{40}$/.test(id))
      throw new Error(`config.fhir.smartClients: '${id}' is not an identity id (40 lowercase hex characters)`);
    if (typeof value !== 'string' || value.trim() === '')
      throw new Error(`config.fhir.smartClients.${id} must be a string of space-separated scopes, e.g. "system/*.rs"`);
    const scopes = value.trim().split(/\s+/);
    const bad = scopes.find((s) => !isSystemScope(s));
    if (bad !== undefined)
      throw new Error(
        `config.fhir.smartClients.${id}: '${bad}' is not a system scope this server grants (system/TYPE or system/* with .read, .write, .* or SMART v2 letters in the order cruds, e.g. system/*.rs)`,
      );
    clients.set(id, [...new Set(scopes)]);
  }
  return clients;
}

/** Read the `fhir` entry of a node config; undefined when the endpoint is off. Throws Error on a malformed entry. */
export function parseFhirConfig(raw: unknown, homeDir: string): FhirConfig | undefined {
  if (raw === undefined || raw === null || raw === false) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error('config.fhir must be an object');
  const r = raw as Record<string, unknown>;
  if (r.enabled === false) return undefined;
  if (r.orgKeyHome !== undefined && typeof r.orgKeyHome !== 'string') throw new Error('config.fhir.orgKeyHome must be a directory path');
  if (r.baseUrl !== undefined && (typeof r.baseUrl !== 'string' || !/^https?:\/\//.test(r.baseUrl)))
    throw new Error('config.fhir.baseUrl must be an http(s) URL');
  const limit = r.bodyLimitBytes ?? 16 * 1024 * 1024;
  if (!Number.isSafeInteger(limit) || (limit as number) < 1024) throw new Error('config.fhir.bodyLimitBytes must be an integer ≥ 1024');
  const smartClients = parseSmartClients(r.smartClients);
  const only = r.smartClientsOnly ?? false;
  if (typeof only !== 'boolean') throw new Error('config.fhir.smartClientsOnly must be true or false');
  if (only && smartClients.size === 0)
    throw new Error('config.fhir.smartClientsOnly is true but config.fhir.smartClients lists no client: no one could get a token');
  return {
    orgKeyHome: resolve(homeDir, (r.orgKeyHome as string | undefined) ?? '.'),
    ...(r.baseUrl === undefined ? {} : { baseUrl: (r.baseUrl as string).replace(/\/+$/, '') }),
    bodyLimitBytes: limit as number,
    smartClients,
    smartClientsOnly: only,
  };
}

function send(reply: FastifyReply, status: number, body: unknown, headers: Record<string, string> = {}) {
  return reply
    .status(status)
    .headers({ 'content-type': FHIR_JSON, ...headers })
    .send(JSON.stringify(body));
}

/**
 * Register the FHIR endpoint on the node's API when `config.json` has a `fhir` entry.
 * Loads the organization's keys with `readOrgKey` and the R4 definitions once.
 */
export function registerFhirRoutes(app: FastifyInstance, node: RouteDeps): void {
  const cfg = parseFhirConfig((node.home.config as unknown as { fhir?: unknown }).fhir, node.home.dir);
  if (cfg === undefined) return;
  // A base taken from the Host header would let any caller choose the token audience and the
  // URLs clients are sent to; off loopback the operator must say what the public URL is.
  if (cfg.baseUrl === undefined && !isLoopbackHost(node.home.config.api.host))
    throw new Error(
      `config.fhir.baseUrl is required when the API listens on ${node.home.config.api.host} (not loopback): set it to the endpoint's public URL, e.g. https://fhir.example.org/fhir/R4`,
    );
  const orgKeys = readOrgKey(cfg.orgKeyHome);
  const orgId = idFromPublicKey(orgKeys.signing.publicKey);
  loadFhirDefinitions();
  const agent = new OrgAgent(node, orgKeys, orgId);
  const repo = new FhirRepository(agent, new CustodyStore(node.home.dir, orgKeys, node.now), node.gatekeeper);
  // Used assertion ids are kept in the node's home, so a restart does not make them usable again.
  // Registered clients get at most their registered scopes (config.fhir.smartClients).
  const auth = new SmartAuth(orgId, {
    state: node.chain.state,
    now: node.now,
    jtiFile: join(node.home.dir, 'fhir-jti.log'),
    clients: cfg.smartClients,
    clientsOnly: cfg.smartClientsOnly,
  });
  // node.url is the address the API is bound to (set once it listens, before any request).
  const baseOf = (_req: FastifyRequest) => cfg.baseUrl ?? `${node.url}${FHIR_PREFIX}`;

  app.register(
    async (scope) => {
      const parseJson = (_req: FastifyRequest, body: string, done: (err: Error | null, value?: unknown) => void) => {
        try {
          done(null, parseFhirJson(body));
        } catch (err) {
          done(err as FhirError);
        }
      };
      scope.addContentTypeParser('application/fhir+json', { parseAs: 'string' }, parseJson);
      // Plain JSON too goes through the depth limit and the poisoning checks.
      scope.removeContentTypeParser('application/json');
      scope.addContentTypeParser('application/json', { parseAs: 'string' }, parseJson);
      scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
        done(null, Object.fromEntries(new URLSearchParams(body as string))),
      );

      scope.setErrorHandler((err, req, reply) => {
        if (err instanceof OAuthError)
          return reply.status(err.status).header('cache-control', 'no-store').send({ error: err.error, error_description: err.message });
        const { status, outcome, internal } = outcomeFor(err);
        if (internal) node.log('error', `internal error serving FHIR ${req.method} ${req.routeOptions.url ?? ''}: ${(err as Error).name}`);
        return send(reply, status, outcome);
      });
      scope.setNotFoundHandler((req, reply) =>
        send(
          reply,
          404,
          outcomeFor(new FhirError(404, 'not-supported', `no FHIR interaction ${req.method} ${req.url.split('?')[0]}`)).outcome,
        ),
      );

      const caller = (req: FastifyRequest): FhirCaller => auth.authenticate(req.headers.authorization);
      // A read without a valid token is on the record too, with no identity, as on /v1
      // (docs/records.md "Access log"); `id` is kept only if it names a record.
      const readingCaller = (req: FastifyRequest, id: string): FhirCaller => {
        try {
          return caller(req);
        } catch (err) {
          node.gatekeeper.attempt(/^[0-9a-f]{32}$/.test(id) ? id : null, 'UNAUTHENTICATED');
          throw err;
        }
      };
      // The purpose of use, as `purpose` on /v1 reads: the one read gate checks it the same way.
      const purposeOf = (req: FastifyRequest): Purpose | undefined => {
        const raw = req.headers['x-purpose-of-use'];
        if (raw === undefined) return undefined;
        if (typeof raw !== 'string' || !PURPOSES.includes(raw as Purpose))
          throw new FhirError(400, 'invalid', `X-Purpose-Of-Use must be one of ${PURPOSES.join(', ')}`);
        return raw as Purpose;
      };
      const requireScope = (c: FhirCaller, type: string, action: 'c' | 'r' | 'u' | 's') => {
        if (!scopeAllows(c.scopes, type, action)) throw new FhirError(403, 'forbidden', `the token's scopes do not allow this on ${type}`);
      };
      const resourceBody = (req: FastifyRequest, type: string): Resource => {
        const resource = validateFhirResource(req.body);
        if (resource.resourceType !== type) throw new FhirError(400, 'invalid', `the body is a ${resource.resourceType}, not a ${type}`);
        return structuredClone(resource);
      };
      const located = (reply: FastifyReply, base: string, r: Resource, status: number) =>
        send(reply, status, r, {
          location: `${base}/${r.resourceType}/${r.id}/_history/${r.meta?.versionId}`,
          etag: `W/"${r.meta?.versionId}"`,
        });

      scope.get('/metadata', async (req, reply) => send(reply, 200, capabilityStatement(baseOf(req), node.now())));
      scope.get('/.well-known/smart-configuration', async (req, reply) =>
        reply.send({
          token_endpoint: `${baseOf(req)}/auth/token`,
          grant_types_supported: ['client_credentials'],
          token_endpoint_auth_methods_supported: ['private_key_jwt'],
          token_endpoint_auth_signing_alg_values_supported: ['EdDSA'],
          scopes_supported: ['system/*.cruds', 'system/*.rs', 'system/*.read', 'system/*.write'],
          capabilities: ['client-confidential-asymmetric'],
        }),
      );
      scope.post('/auth/token', async (req, reply) => {
        if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body))
          throw new OAuthError('invalid_request', 'send the token request as application/x-www-form-urlencoded');
        const answer = await auth.issueToken(req.body as Record<string, string>, `${baseOf(req)}/auth/token`);
        return reply.header('cache-control', 'no-store').send(answer);
      });

      // Transactions.
      scope.post('/', { bodyLimit: cfg.bodyLimitBytes }, async (req, reply) => {
        const c = caller(req);
        return send(reply, 200, await processTransaction(repo, c, req.body));
      });

      // Insurance (docs/insurance.md): eligibility answered from committed state, no transaction.
      const insurancePorts = {
        state: node.chain.state,
        coveragesOf: (patient: string) => coverageIdsFrom((prefix) => node.chain.store.scanState(prefix), patient),
        blockTime: () => node.chain.tipTime,
        consentTime: () => node.accessTime(),
      };
      scope.post('/CoverageEligibilityRequest/$submit', async (req, reply) => {
        const c = caller(req);
        requireScope(c, 'CoverageEligibilityRequest', 'c');
        return send(reply, 200, coverageEligibility(insurancePorts, c.identity, req.body));
      });
      scope.post('/Claim/$submit', { bodyLimit: cfg.bodyLimitBytes }, async (req, reply) => {
        const c = caller(req);
        requireScope(c, 'Claim', 'c');
        const resource = resourceBody(req, 'Claim');
        const ports = {
          state: node.chain.state,
          orgId,
          blockTime: () => node.chain.tipTime,
          writeRecord: async (who: typeof c.identity, patient: string, claim: Record<string, unknown>) => {
            repo.requireWrite(who, patient, claim as unknown as Resource);
            const w = repo.prepareWrite(patient, claim as unknown as Resource);
            await agent.waitCommitted([repo.submitWrite(w)]);
            return { recordId: w.recordId, contentHash: w.body.contentHash as string };
          },
          submitAndWait: async (kind: string, body: Record<string, unknown>) => {
            const hash = agent.submit(kind, body);
            await agent.waitCommitted([hash]);
            return hash;
          },
        };
        const fields = (claim: Record<string, unknown>) => {
          try {
            // A prior-authorization request reads like a claim whose items may carry no charge yet.
            const asClaim =
              claim.use === 'preauthorization'
                ? {
                    ...claim,
                    use: 'claim',
                    item: ((claim.item as Array<Record<string, unknown>> | undefined) ?? []).map((i) => ({ net: { value: 0 }, ...i })),
                  }
                : claim;
            return claimFieldsOf(asClaim) as unknown as Record<string, unknown>;
          } catch (err) {
            if (err instanceof ClientError) throw new FhirError(400, 'invalid', err.message);
            throw err;
          }
        };
        return send(reply, 200, await submitFhirClaim(ports, c.identity, resource as unknown as Record<string, unknown>, fields));
      });
      const searchPorts = {
        state: node.chain.state,
        blockTime: () => node.chain.tipTime,
        consentTime: () => node.accessTime(),
      };
      scope.get<{ Params: { id: string } }>('/ClaimResponse/:id', async (req, reply) => {
        const c = caller(req);
        requireScope(c, 'ClaimResponse', 'r');
        const claim = visibleClaim(searchPorts, c.identity, req.params.id);
        if (claim === undefined) throw new FhirError(404, 'not-found', `no ClaimResponse/${req.params.id}, or it is not yours to see`);
        return send(reply, 200, claimResponseOf(claim));
      });
      scope.get('/ClaimResponse', async (req, reply) => {
        const c = caller(req);
        requireScope(c, 'ClaimResponse', 's');
        return send(reply, 200, searchClaimResponses(searchPorts, c.identity, baseOf(req), req.query as Record<string, string>));
      });
      scope.get('/ExplanationOfBenefit', async (req, reply) => {
        const c = caller(req);
        requireScope(c, 'ExplanationOfBenefit', 's');
        return send(reply, 200, searchExplanationsOfBenefit(searchPorts, c.identity, baseOf(req), req.query as Record<string, string>));
      });
      // A claim id reads the EOB built from the chain; any other id is an EOB record (written on payment).
      scope.get<{ Params: { id: string } }>('/ExplanationOfBenefit/:id', async (req, reply) => {
        const c = readingCaller(req, req.params.id);
        requireScope(c, 'ExplanationOfBenefit', 'r');
        let claim: ReturnType<typeof visibleClaim>;
        try {
          claim = visibleClaim(searchPorts, c.identity, req.params.id);
        } catch (err) {
          // A claim the caller may not see is answered as an id that names nothing (403 below),
          // not with its own 404, which would tell a caller which ids are claims.
          if (!(err instanceof FhirError) || err.status !== 404) throw err;
        }
        if (claim !== undefined) return send(reply, 200, explanationOfBenefit(claim));
        return readLatest(req, reply, c, 'ExplanationOfBenefit', req.params.id);
      });

      // Custody: the organization issues a claim code; the patient claims with it.
      scope.post<{ Params: { id: string } }>('/Patient/:id/$claim-code', async (req, reply) => {
        const c = caller(req);
        requireScope(c, 'Patient', 'u');
        // Whoever holds a claim code takes over the patient's identity (claim.ts rotates it onto
        // the claimant's keys), so only the organization's own system issues one, never its staff.
        if (c.identity.id !== orgId) throw new FhirError(403, 'forbidden', "only the organization's own identity issues claim codes");
        const { code, expiresAt } = repo.custody.issueClaimCode(req.params.id);
        return send(reply, 200, {
          resourceType: 'Parameters',
          parameter: [
            { name: 'code', valueString: code },
            { name: 'expires', valueInstant: new Date(expiresAt).toISOString() },
          ],
        });
      });
      scope.post<{ Params: { id: string } }>('/Patient/:id/$claim', async (req, reply) => {
        const given = (req.body as { parameter?: unknown } | null)?.parameter;
        const params = new Map(
          (Array.isArray(given) ? (given as Array<{ name?: string; valueString?: string } | null>) : []).map((p) => [
            p?.name,
            p?.valueString,
          ]),
        );
        const result = await claimPatient(
          repo,
          req.params.id,
          {
            code: params.get('code') as string,
            publicKey: params.get('publicKey') as string,
            encryptionKey: params.get('encryptionKey') as string,
            proof: params.get('proof') as string,
          },
          req.ip,
        );
        return send(reply, 200, {
          resourceType: 'Parameters',
          parameter: [
            { name: 'patient', valueString: result.patient },
            { name: 'recordsRewrapped', valueInteger: result.recordsRewrapped },
            { name: 'grantsRevoked', valueInteger: result.grantsRevoked },
          ],
        });
      });

      // Search across types, and per type.
      const search = async (req: FastifyRequest, c: FhirCaller, q: SearchQuery): Promise<Bundle> => {
        for (const t of q.types ?? ['*']) if (t !== '*') requireScope(c, t, 's');
        if (q.types === undefined) requireScope(c, '*', 's');
        const candidates = repo.visibleRecords(c.identity, q.patient).filter(
          (r) =>
            (q.types === undefined || q.types.includes(r.resourceType)) &&
            (q.categories === undefined || q.categories.includes(r.category)) &&
            // A record of a type with no date matches no `date`: left out by its anchored type, unread.
            (q.dates.length === 0 || typeHasDate(r.resourceType)),
        );
        // A mislabeled record (filed under other labels than it was written with) is skipped,
        // never served and never fatal to the search: the reason is logged (never the contents)
        // and an OperationOutcome entry tells the caller how many were left out.
        const skipped: string[] = [];
        const readOrSkip = async (r: RecordMeta): Promise<Resource | undefined> => {
          try {
            return await repo.readVersion(c.identity, r, purposeOf(req));
          } catch (err) {
            if (!(err instanceof MislabeledRecordError)) throw err;
            node.log(
              'warn',
              `FHIR search skipped record ${err.record}: RECORD_MISLABELED (its labels are not the ones it was written with)`,
            );
            skipped.push(err.record);
            return undefined;
          }
        };
        // The offset counts candidates; a page reads on past skipped ones and (with `date`) past
        // candidates whose date does not match, so it is full whenever more matches follow, and
        // the next page starts after the last candidate read. The dates are inside the
        // ciphertext and no date is anchored on chain, so a `date` filter can only be applied to
        // a record the read gate served: each candidate a page reads is a read of that record for
        // the caller, logged on the patient's access log, whether or not it matched (the caller
        // learns from the page which ones did). Reading only until the page is full, and never
        // again on a later page, keeps those reads to the candidates the caller paged through.
        const page: Resource[] = [];
        let i = q.offset;
        for (; i < candidates.length && page.length < q.count; i++) {
          const resource = await readOrSkip(candidates[i] as RecordMeta);
          if (resource !== undefined && matchesDates(resource, q.dates)) page.push(resource);
        }
        const nextOffset = i;
        // Without `date` every candidate matches: records skipped on this page are not matches,
        // those on other pages are found when read. With `date` the number of matches is known
        // only when this one page read every candidate; counting them otherwise would mean
        // reading (and logging) every record, so `total` is then left out.
        const total =
          q.dates.length === 0
            ? candidates.length - skipped.length
            : q.offset === 0 && nextOffset === candidates.length
              ? page.length
              : undefined;
        const base = baseOf(req);
        const path = req.url.split('?')[0] as string;
        const params = new URLSearchParams(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');
        const linkAt = (offset: number) => {
          params.set('_offset', String(offset));
          params.set('_count', String(q.count));
          return `${base}${path.slice(FHIR_PREFIX.length)}?${params.toString()}`;
        };
        const link = [{ relation: 'self', url: linkAt(q.offset) }];
        if (nextOffset < candidates.length) link.push({ relation: 'next', url: linkAt(nextOffset) });
        if (q.offset > 0) link.push({ relation: 'previous', url: linkAt(Math.max(0, q.offset - q.count)) });
        return {
          resourceType: 'Bundle',
          type: 'searchset',
          ...(total === undefined ? {} : { total }),
          link,
          entry: [
            ...page.map((resource) => ({
              fullUrl: `${base}/${resource.resourceType}/${resource.id}`,
              resource,
              search: { mode: 'match' as const },
            })),
            ...(skipped.length === 0
              ? []
              : [
                  {
                    resource: {
                      resourceType: 'OperationOutcome' as const,
                      issue: [
                        {
                          severity: 'warning' as const,
                          code: 'processing' as const,
                          diagnostics: `RECORD_MISLABELED: ${skipped.length} record(s) filed under other labels than they were written with were left out`,
                        },
                      ],
                    },
                    search: { mode: 'outcome' as const },
                  },
                ]),
          ],
        };
      };
      scope.get('/', async (req, reply) => {
        const c = caller(req);
        return send(reply, 200, await search(req, c, parseSearch(req.query as Record<string, string>)));
      });
      scope.get<{ Params: { type: string } }>('/:type', async (req, reply) => {
        const c = caller(req);
        // Medicines: a prescription's fills, from the ledger (docs/medicines.md "FHIR").
        const query = req.query as Record<string, string | string[] | undefined>;
        if (req.params.type === 'MedicationDispense' && query.prescription !== undefined) {
          requireScope(c, 'MedicationDispense', 's');
          return send(reply, 200, searchLedgerDispenses(node.chain.state, c.identity, query, baseOf(req)));
        }
        return send(reply, 200, await search(req, c, parseSearch(req.query as Record<string, string>, knownType(req.params.type))));
      });

      // Create and update.
      scope.post<{ Params: { type: string } }>('/:type', { bodyLimit: cfg.bodyLimitBytes }, async (req, reply) => {
        const c = caller(req);
        const type = knownType(req.params.type);
        requireScope(c, type, 'c');
        const resource = resourceBody(req, type);
        if (type === 'Patient') {
          repo.requireCustodialWrite(c.identity, resource);
          const { patientId, keys } = repo.newCustodialPatient();
          let submitted: string[];
          try {
            submitted = repo.submitRegistration(keys);
          } catch (err) {
            // Never reached the ledger: the keys are of no use to anyone.
            repo.custody.destroy(patientId);
            throw err;
          }
          await agent.waitCommitted(submitted);
          const w = repo.prepareWrite(patientId, resource, { logicalId: patientId });
          await agent.waitCommitted([repo.submitWrite(w)]);
          return located(reply, baseOf(req), await repo.readVersion(c.identity, repo.latest('Patient', patientId)), 201);
        }
        const patient = patientReferenced(resource as unknown as Record<string, unknown>);
        if (patient === undefined) throw new FhirError(422, 'processing', `a ${type} must reference its Patient (subject or patient)`);
        repo.requireWrite(c.identity, patient, resource);
        const w = repo.prepareWrite(patient, resource);
        await agent.waitCommitted([repo.submitWrite(w)]);
        return located(reply, baseOf(req), await repo.readVersion(c.identity, repo.latest(type, w.logicalId)), 201);
      });
      scope.put<{ Params: { type: string; id: string } }>('/:type/:id', { bodyLimit: cfg.bodyLimitBytes }, async (req, reply) => {
        const c = caller(req);
        const type = knownType(req.params.type);
        requireScope(c, type, 'u');
        const resource = resourceBody(req, type);
        if (resource.id !== undefined && resource.id !== req.params.id)
          throw new FhirError(400, 'invalid', 'the resource id does not match the URL (R4 §3.1.0.4 "update")');
        const latest = repo.latest(type, req.params.id, c.identity);
        // Only an update by someone who may read the current version (and so knows it exists).
        await repo.readVersion(c.identity, latest);
        // The new version stays in the chart of the one it supersedes: one that names another
        // patient would be filed (and sealed) for the wrong person.
        const named = type === 'Patient' ? undefined : patientReferenced(resource as unknown as Record<string, unknown>);
        if (named !== undefined && named !== latest.patient)
          throw new FhirError(422, 'processing', `an update may not move a ${type} to another Patient`);
        repo.requireWrite(c.identity, latest.patient, resource);
        const w = repo.prepareWrite(latest.patient, resource, { logicalId: req.params.id, supersedes: latest.id });
        await agent.waitCommitted([repo.submitWrite(w)]);
        return located(reply, baseOf(req), await repo.readVersion(c.identity, repo.latest(type, req.params.id)), 200);
      });

      // Read and vread.
      const readLatest = async (req: FastifyRequest, reply: FastifyReply, c: FhirCaller, type: string, id: string) => {
        const resource = await repo.readVersion(c.identity, repo.latest(type, id, c.identity), purposeOf(req));
        return send(reply, 200, resource, { etag: `W/"${resource.meta?.versionId}"` });
      };
      scope.get<{ Params: { type: string; id: string } }>('/:type/:id', async (req, reply) => {
        const c = readingCaller(req, req.params.id);
        const type = knownType(req.params.type);
        requireScope(c, type, 'r');
        // Medicines: `MedicationRequest/rx-<id>` and `MedicationDispense/rx-<id>-<n>` are the ledger's prescriptions and fills.
        if (isLedgerMedicationId(type, req.params.id))
          return send(reply, 200, readLedgerMedication(node.chain.state, c.identity, type, req.params.id));
        return readLatest(req, reply, c, type, req.params.id);
      });
      scope.get<{ Params: { type: string; id: string; vid: string } }>('/:type/:id/_history/:vid', async (req, reply) => {
        const c = readingCaller(req, req.params.vid);
        const type = knownType(req.params.type);
        requireScope(c, type, 'r');
        const versions = repo.versions(type, req.params.id, c.identity);
        const version = versions.find((r) => r.id === req.params.vid);
        if (version === undefined) {
          // Say "no such version" only to a caller who may read the resource.
          await repo.readVersion(c.identity, versions[versions.length - 1] as RecordMeta, purposeOf(req));
          throw new FhirError(404, 'not-found', `${type}/${req.params.id} has no version ${req.params.vid}`);
        }
        const resource = await repo.readVersion(c.identity, version, purposeOf(req));
        return send(reply, 200, resource, { etag: `W/"${resource.meta?.versionId}"` });
      });
    },
    { prefix: FHIR_PREFIX },
  );
}

/** Is `host` a loopback address (127.0.0.0/8, ::1, localhost)? */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** A path's resource type, or FhirError 404 for one R4 does not define. */
function knownType(type: string): string {
  if (!isResourceType(type)) throw new FhirError(404, 'not-supported', `${type} is not a FHIR R4 resource type`);
  return type;
}
