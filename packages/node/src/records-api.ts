// HTTP routes of the gatekeeper and vault (docs/records.md): sign-in, uploads, record
// reads that are always logged, and what patients see of their records, grants and log.
import { isHex } from '@medledger/crypto';
import {
  type AccessEvent,
  DISPENSE_RECORD,
  emergencyWindowOf,
  getGrant,
  getIdentity,
  getRecord,
  grantCoversRecord,
  granteeIdsFor,
  grantIsActive,
  grantsFrom,
  type Identity,
  isDelegate,
  keys,
  mayWrite,
  PURPOSES,
  type Purpose,
  prefixes,
  type RecordMeta,
} from '@medledger/ehr';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { schemas } from './api-schemas.js';
import { dispensesFor } from './dispense-writers.js';
import { ApiError } from './errors.js';
import type { Gatekeeper } from './gatekeeper.js';
import { type PageQuery, pageDenseAscending, pageDenseNewestFirst, pageState } from './paging.js';
import { recordRecipients } from './recipients.js';
import type { RouteDeps } from './route-deps.js';

function idParam(raw: string, what: string, bytes: number): string {
  if (!isHex(raw, bytes)) throw new ApiError('INVALID_PARAM', `${what} must be ${bytes}-byte hex`);
  return raw;
}

export function registerRecordRoutes(app: FastifyInstance, node: RouteDeps, gate: Gatekeeper): void {
  const state = node.chain.state;
  const who = (req: FastifyRequest) => gate.authenticate(req.headers.authorization);
  const decisionTime = () => node.accessTime();
  const store = node.chain.store;
  // Pharmacy staff write no records by consent, but a dispense anchors their MedicationDispense.
  const mayWriteDispenseRecord = (caller: Identity, patient: string, target: { category: string; resourceType: string }) =>
    target.category === DISPENSE_RECORD.category &&
    target.resourceType === DISPENSE_RECORD.resourceType &&
    dispensesFor(state, store, caller, patient, decisionTime());
  const managing = (caller: Identity, patient: string) => {
    if (caller.id !== patient && !isDelegate(state, patient, caller.id)) {
      throw new ApiError('ACCESS_DENIED', 'only the patient and their delegates see this');
    }
  };

  // Raw bytes only for vault uploads; every other route stays JSON-only.
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.post('/v1/auth/challenge', { schema: schemas.challenge }, async (req) =>
    gate.challenge((req.body as { publicKey?: unknown } | null)?.publicKey),
  );
  app.post('/v1/auth/session', { schema: schemas.openSession }, async (req) => {
    const body = req.body as Record<string, unknown> | null;
    if (typeof body !== 'object' || body === null) throw new ApiError('INVALID_BODY', 'body must be an object');
    return gate.openSession(body);
  });
  app.delete('/v1/auth/session', { schema: schemas.closeSession }, async (req, reply) => {
    gate.closeSession(req.headers.authorization);
    return reply.status(204).send();
  });

  // Objects may be larger than other requests: the vault's own limit applies here.
  app.put<{ Params: { hash: string } }>(
    '/v1/vault/:hash',
    { schema: schemas.putObject, bodyLimit: node.vault.maxObjectBytes },
    async (req, reply) => {
      const caller = who(req);
      if (!Buffer.isBuffer(req.body)) throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'send the object as application/octet-stream');
      const hash = idParam(req.params.hash, 'hash', 32);
      // Bound to the caller: only it may name the object in a transaction (Vault.checkNamed).
      const { created } = node.vault.put(hash, new Uint8Array(req.body), caller.id);
      return reply.status(created ? 201 : 200).send({ hash, size: req.body.length });
    },
  );

  // Schema refusals are answered here, not by Fastify, so that a malformed request for a
  // record is on the record too; so is one without a live session (docs/records.md).
  app.get<{ Params: { id: string }; Querystring: { purpose?: string } }>(
    '/v1/records/:id',
    { schema: schemas.readRecord, attachValidation: true },
    async (req, reply) => {
      const id = isHex(req.params.id, 16) ? req.params.id : null;
      let caller: Identity;
      try {
        caller = who(req);
      } catch (err) {
        if (err instanceof ApiError) gate.attempt(id, err.code);
        throw err;
      }
      const rawPurpose = req.query.purpose;
      const purposeOk = rawPurpose === undefined || PURPOSES.includes(rawPurpose as Purpose);
      if (id === null || !purposeOk || req.validationError !== undefined) {
        gate.attempt(id, 'MALFORMED_REQUEST', caller);
        if (id === null) throw new ApiError('INVALID_PARAM', 'record id must be 16-byte hex');
        if (!purposeOk) throw new ApiError('INVALID_PARAM', `purpose must be one of ${PURPOSES.join(', ')}`);
        throw new ApiError('INVALID_PARAM', req.validationError?.message ?? 'malformed request');
      }
      const read = await gate.read(caller, id, rawPurpose === undefined ? {} : { purpose: rawPurpose as Purpose });
      return reply.send({
        record: recordView(read.record),
        ciphertext: Buffer.from(read.ciphertext).toString('base64'),
        envelope: JSON.parse(Buffer.from(read.envelope).toString('utf8')),
        envelopeFor: read.envelopeFor,
        event: read.event,
      });
    },
  );

  app.get<{ Params: { id: string }; Querystring: PageQuery }>(
    '/v1/patients/:id/records',
    { schema: schemas.patientRecords },
    async (req) => {
      const caller = who(req);
      const patient = idParam(req.params.id, 'patient id', 20);
      const all = caller.id === patient || isDelegate(state, patient, caller.id);
      const inEmergency = !all && emergencyWindowOf(state, caller, patient, decisionTime()) !== undefined;
      const grants = all ? [] : grantsFrom(state, patient, granteeIdsFor(state, caller)).filter((g) => grantIsActive(g, decisionTime()));
      const visible = (record: RecordMeta | undefined): record is RecordMeta =>
        record !== undefined && (all || (record.erased === null && (inEmergency || grants.some((g) => grantCoversRecord(g, record)))));
      // The patient and delegates see every record: in anchor order, with the count, so their
      // SDK proves the page complete. Others see the records their grants or window cover.
      if (all) {
        const page = pageDenseAscending(
          store,
          { tag: 'r', count: keys.recordCount(patient), entry: (p) => keys.recordIndex(patient, p) },
          req.query,
          (id) => recordView(getRecord(state, id) as RecordMeta),
        );
        return { records: page.items, next: page.next, count: page.count };
      }
      // No active grant and no window: nothing is visible, and the answer comes without walking
      // the patient's records, so its time does not tell a stranger how many they hold.
      if (!inEmergency && grants.length === 0) return { records: [], next: null };
      const page = pageState(store, [prefixes.patientRecords(patient)], req.query, (key) => {
        const record = getRecord(state, lastSegment(key));
        return visible(record) ? [recordView(record)] : [];
      });
      return { records: page.items, next: page.next };
    },
  );

  app.get<{ Params: { id: string }; Querystring: PageQuery & { all?: string } }>(
    '/v1/patients/:id/grants',
    { schema: schemas.patientGrants },
    async (req) => {
      const patient = idParam(req.params.id, 'patient id', 20);
      managing(who(req), patient);
      const everyGrant = req.query.all === 'true';
      const page = pageState(store, [prefixes.grantsOfPatient(patient)], req.query, (key) =>
        grantsFrom(state, patient, [lastSegment(key)])
          .filter((g) => everyGrant || grantIsActive(g, decisionTime()))
          .map((g) => ({ ...g, active: grantIsActive(g, decisionTime()), granteeIdentity: publicView(getIdentity(state, g.grantee)) })),
      );
      return { grants: page.items, next: page.next };
    },
  );

  // Newest first, by position in the patient's dense log (a client proves the page complete);
  // emergency reads also come from their own list at the top, so no number of other events can
  // push them off the first page (docs/records.md "Access log").
  const accessLogPage = (patient: string, log: 'all' | 'emergency', query: PageQuery) =>
    pageDenseNewestFirst(
      store,
      { count: keys.accessCount(log, patient), entry: (p) => keys.accessIndex(log, patient, p) },
      query,
      (logKey) => JSON.parse(store.getState(logKey) as string) as AccessEvent,
    );
  app.get<{ Params: { id: string }; Querystring: PageQuery }>('/v1/patients/:id/access-log', { schema: schemas.accessLog }, async (req) => {
    const patient = idParam(req.params.id, 'patient id', 20);
    managing(who(req), patient);
    const page = accessLogPage(patient, 'all', req.query);
    const emergency = accessLogPage(patient, 'emergency', {});
    return {
      emergency: emergency.items,
      emergencyNext: emergency.next,
      emergencyCount: emergency.count,
      events: page.items,
      next: page.next,
      count: page.count,
    };
  });

  app.get<{ Params: { id: string }; Querystring: PageQuery }>(
    '/v1/patients/:id/access-log/emergency',
    { schema: schemas.emergencyAccessLog },
    async (req) => {
      const patient = idParam(req.params.id, 'patient id', 20);
      managing(who(req), patient);
      const page = accessLogPage(patient, 'emergency', req.query);
      return { events: page.items, next: page.next, count: page.count };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { category?: string; resourceType?: string } }>(
    '/v1/patients/:id/recipients',
    { schema: schemas.recipients },
    async (req) => {
      const caller = who(req);
      const patientId = idParam(req.params.id, 'patient id', 20);
      const { category, resourceType } = req.query;
      if (typeof category !== 'string' || typeof resourceType !== 'string')
        throw new ApiError('INVALID_PARAM', 'category and resourceType are required');
      const patient = getIdentity(state, patientId);
      if (patient?.role !== 'patient' || patient.status !== 'active')
        throw new ApiError('ACCESS_DENIED', 'no such patient, or you may not write for them');
      const target = { id: '', category, resourceType };
      if (!mayWrite(state, caller, patientId, target, decisionTime()) && !mayWriteDispenseRecord(caller, patientId, target))
        throw new ApiError('ACCESS_DENIED', 'no such patient, or you may not write for them');
      return { recipients: recordRecipients(node, patientId, target) };
    },
  );

  app.get<{ Querystring: PageQuery }>('/v1/me/grants', { schema: schemas.myGrants }, async (req) => {
    const caller = who(req);
    const grantees = granteeIdsFor(state, caller);
    const page = pageState(
      store,
      grantees.map((g) => prefixes.sharedWith(g)),
      req.query,
      (key) => {
        const grantee = key.split('/')[1] as string;
        return grantsFrom(state, lastSegment(key), [grantee]).map((g) => ({ ...g, active: grantIsActive(g, decisionTime()) }));
      },
    );
    return { grants: page.items, next: page.next };
  });

  app.get<{ Params: { id: string } }>('/v1/grants/:id', { schema: schemas.grant }, async (req) => {
    const caller = who(req);
    const grant = getGrant(state, idParam(req.params.id, 'grant id', 16));
    const mine =
      grant !== undefined &&
      (granteeIdsFor(state, caller).includes(grant.grantee) || caller.id === grant.patient || isDelegate(state, grant.patient, caller.id));
    if (!mine) throw new ApiError('ACCESS_DENIED', 'no such grant, or it is not yours');
    return { ...grant, active: grantIsActive(grant, decisionTime()) };
  });
}

/** The last path segment of a state key (the id an index key ends in). */
function lastSegment(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

/** A record's metadata as the API shows it: `record` is its id (as in the anchor), `status` active or erased. */
function recordView(record: RecordMeta) {
  return { ...record, record: record.id, status: record.erased === null ? 'active' : 'erased' };
}

/** What anyone may see of an identity: never more than the chain already shows. */
function publicView(identity: Identity | undefined) {
  return identity === undefined ? null : { id: identity.id, role: identity.role, name: identity.name ?? null, org: identity.org ?? null };
}
