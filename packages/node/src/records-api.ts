// HTTP routes of the gatekeeper and vault (docs/records.md): sign-in, uploads, record
// reads that are always logged, and what patients see of their records, grants and log.
import { isHex } from '@medledger/crypto';
import {
  decideEmergencyRead,
  decideRead,
  EMERGENCY_RECIPIENT,
  emergencyWindowOf,
  type Grant,
  getGrant,
  getIdentity,
  getRecord,
  grantCoversRecord,
  granteeIdsFor,
  grantIsActive,
  grantsFrom,
  type Identity,
  isDelegate,
  mayWrite,
  PURPOSES,
  type Purpose,
  prefixes,
  type RecordMeta,
} from '@medledger/ehr';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { schemas } from './api-schemas.js';
import { ApiError } from './errors.js';
import type { Gatekeeper } from './gatekeeper.js';
import type { MedLedgerNode } from './node.js';
import { recordRecipients } from './recipients.js';

const LIST_LIMIT = 5_000;

function idParam(raw: string, what: string, bytes: number): string {
  if (!isHex(raw, bytes)) throw new ApiError('INVALID_PARAM', `${what} must be ${bytes}-byte hex`);
  return raw;
}

export function registerRecordRoutes(app: FastifyInstance, node: MedLedgerNode, gate: Gatekeeper): void {
  const state = node.chain.state;
  const who = (req: FastifyRequest) => gate.authenticate(req.headers.authorization);
  const decisionTime = () => node.accessTime();
  const scan = (prefix: string) => node.chain.store.scanState(prefix, { limit: LIST_LIMIT });
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

  app.get<{ Params: { id: string }; Querystring: { purpose?: string } }>(
    '/v1/records/:id',
    { schema: schemas.readRecord },
    async (req, reply) => {
      const caller = who(req);
      const id = idParam(req.params.id, 'record id', 16);
      const rawPurpose = req.query.purpose;
      if (rawPurpose !== undefined && !PURPOSES.includes(rawPurpose as Purpose))
        throw new ApiError('INVALID_PARAM', `purpose must be one of ${PURPOSES.join(', ')}`);
      const ordinary = decideRead(state, caller, id, rawPurpose as Purpose | undefined, decisionTime());
      // Break-glass (docs/emergency.md): the emergency envelope only when the ordinary rules
      // refuse; but every read by the clinician of an open window on the patient is tagged.
      const emergency = ordinary.allowed ? undefined : decideEmergencyRead(state, caller, id, decisionTime());
      const decision = emergency ?? ordinary;
      const patient = decision.record?.patient;
      const base = {
        record: id,
        patient: patient ?? null,
        accessor: caller.id,
        purpose: decision.purpose,
        emergency: patient !== undefined && emergencyWindowOf(state, caller, patient, decisionTime()) !== undefined,
      };
      if (!decision.allowed) {
        gate.record({ ...base, decision: 'denied', reason: decision.reason });
        if (decision.reason === 'ERASED') throw new ApiError('RECORD_ERASED', 'this record was erased by the patient');
        if (decision.reason === 'NO_ENVELOPE')
          throw new ApiError('NO_ENVELOPE', 'you may read this record, but its key has not been shared with you yet', 409);
        throw new ApiError('ACCESS_DENIED', 'no such record, or you have no active permission to read it');
      }
      const record = decision.record;
      // A grant to the caller's organization seals the key to the organization, whose own
      // system (its FHIR endpoint) holds that key; a staff member's device cannot open it. Serve
      // the caller's own envelope if the record has one, else say where the record can be read.
      let envelopeFor = decision.envelopeFor;
      if (envelopeFor !== caller.id && envelopeFor !== EMERGENCY_RECIPIENT) {
        if (record.envelopes[caller.id] !== undefined) envelopeFor = caller.id;
        else {
          gate.record({ ...base, decision: 'denied', reason: 'ORGANIZATION_KEY' });
          throw new ApiError(
            'ORGANIZATION_KEY',
            "this record is shared with your organization, which holds its key: open it through your organization's system (its FHIR endpoint), or ask the patient to share it with you",
            409,
          );
        }
      }
      const ciphertext = await node.vault.getVerified(record.contentHash);
      const envelopeBytes = await node.vault.getVerified(record.envelopes[envelopeFor] as string);
      if (ciphertext === undefined || envelopeBytes === undefined) {
        gate.record({ ...base, decision: 'denied', reason: 'OBJECT_UNAVAILABLE' });
        throw new ApiError('OBJECT_UNAVAILABLE', 'this node cannot serve the record right now; retry, or ask another node');
      }
      const event = gate.record({ ...base, decision: 'allowed', reason: 'OK' });
      return reply.send({
        record: recordView(record),
        ciphertext: Buffer.from(ciphertext).toString('base64'),
        envelope: JSON.parse(Buffer.from(envelopeBytes).toString('utf8')),
        envelopeFor,
        event,
      });
    },
  );

  app.get<{ Params: { id: string } }>('/v1/patients/:id/records', { schema: schemas.patientRecords }, async (req) => {
    const caller = who(req);
    const patient = idParam(req.params.id, 'patient id', 20);
    const all = caller.id === patient || isDelegate(state, patient, caller.id);
    const inEmergency = !all && emergencyWindowOf(state, caller, patient, decisionTime()) !== undefined;
    const grants = all ? [] : grantsFrom(state, patient, granteeIdsFor(state, caller)).filter((g) => grantIsActive(g, decisionTime()));
    const records: RecordMeta[] = [];
    for (const [key] of scan(prefixes.patientRecords(patient))) {
      const record = getRecord(state, key.slice(key.lastIndexOf('/') + 1));
      if (record !== undefined && (all || (record.erased === null && (inEmergency || grants.some((g) => grantCoversRecord(g, record))))))
        records.push(record);
    }
    return { records: records.map(recordView) };
  });

  app.get<{ Params: { id: string }; Querystring: { all?: string } }>(
    '/v1/patients/:id/grants',
    { schema: schemas.patientGrants },
    async (req) => {
      const patient = idParam(req.params.id, 'patient id', 20);
      managing(who(req), patient);
      const grants: Grant[] = [];
      for (const [key] of scan(prefixes.grantsOfPatient(patient))) {
        grants.push(...grantsFrom(state, patient, [key.slice(key.lastIndexOf('/') + 1)]));
      }
      const shown = req.query.all === 'true' ? grants : grants.filter((g) => grantIsActive(g, decisionTime()));
      return {
        grants: shown.map((g) => ({
          ...g,
          active: grantIsActive(g, decisionTime()),
          granteeIdentity: publicView(getIdentity(state, g.grantee)),
        })),
      };
    },
  );

  app.get<{ Params: { id: string } }>('/v1/patients/:id/access-log', { schema: schemas.accessLog }, async (req) => {
    const patient = idParam(req.params.id, 'patient id', 20);
    managing(who(req), patient);
    const events = scan(prefixes.accessLog(patient)).map(([, v]) => JSON.parse(v));
    return { events: events.reverse() };
  });

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
      if (!mayWrite(state, caller, patientId, target, decisionTime()))
        throw new ApiError('ACCESS_DENIED', 'no such patient, or you may not write for them');
      return { recipients: recordRecipients(node, patientId, target) };
    },
  );

  app.get('/v1/me/grants', { schema: schemas.myGrants }, async (req) => {
    const caller = who(req);
    const grants: Grant[] = [];
    for (const grantee of granteeIdsFor(state, caller)) {
      for (const [key] of scan(prefixes.sharedWith(grantee))) {
        const patient = key.slice(key.lastIndexOf('/') + 1);
        grants.push(...grantsFrom(state, patient, [grantee]));
      }
    }
    return { grants: grants.map((g) => ({ ...g, active: grantIsActive(g, decisionTime()) })) };
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

/** A record's metadata as the API shows it: `record` is its id (as in the anchor), `status` active or erased. */
function recordView(record: RecordMeta) {
  return { ...record, record: record.id, status: record.erased === null ? 'active' : 'erased' };
}

/** What anyone may see of an identity: never more than the chain already shows. */
function publicView(identity: Identity | undefined) {
  return identity === undefined ? null : { id: identity.id, role: identity.role, name: identity.name ?? null, org: identity.org ?? null };
}
