// FHIR resources as MedLedger records, for one organization: writes are encrypted and
// sealed here (this server is the organization's "device") and anchored with its key;
// reads are decided by the ledger for the caller and recorded as access events.
import { buildEmergencySplit, encryptRecord, hasClientCode, newRecordId, openDataKey, openRecord, sealDataKey } from '@medledger/client';
import { generateEncryptionKeyPair, generateKeyBundle, idFromPublicKey, type KeyBundle } from '@medledger/crypto';
import {
  emergencyHolders,
  emergencyParams,
  emergencyThreshold,
  getIdentity,
  getRecord,
  grantCoversRecord,
  granteeIdsFor,
  grantIsActive,
  grantsFrom,
  type Identity,
  mayWrite,
  type Purpose,
  prefixes,
  type RecordMeta,
  staffRoleMayUse,
  staffRoleMayWrite,
} from '@medledger/ehr';
import type { Resource } from '@medplum/fhirtypes';
import { ApiError } from '../errors.js';
import type { Gatekeeper } from '../gatekeeper.js';
import type { ServedRead } from '../read-gate.js';
import type { OrgAgent } from './agent.js';
import { ALL_CATEGORIES, categoryOf } from './categories.js';
import type { CustodyStore } from './custody.js';
import { FhirError, MislabeledRecordError } from './outcome.js';

/** A record about to be anchored: its ids, the stored resource and the anchor body. */
export interface PreparedWrite {
  recordId: string;
  logicalId: string;
  patient: string;
  resource: Resource;
  body: Record<string, unknown>;
}

type Json = Record<string, unknown>;

const PATIENT_ID = /^[0-9a-f]{40}$/;
const RECORD_ID = /^[0-9a-f]{32}$/;

/** Every `reference` string inside a resource, with a setter to rewrite it. */
export function visitReferences(value: unknown, visit: (ref: string, set: (v: string) => void) => void): void {
  if (Array.isArray(value)) {
    for (const v of value) visitReferences(v, visit);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const o = value as Json;
  for (const [k, v] of Object.entries(o)) {
    if (k === 'reference' && typeof v === 'string')
      visit(v, (nv) => {
        o[k] = nv;
      });
    else visitReferences(v, visit);
  }
}

/** The patient a resource belongs to: its `subject`/`patient`/`beneficiary`, else any `Patient/<id>` reference. */
export function patientReferenced(resource: Json): string | undefined {
  for (const field of ['subject', 'patient', 'beneficiary']) {
    const ref = (resource[field] as { reference?: unknown } | undefined)?.reference;
    const m = typeof ref === 'string' ? /^Patient\/([0-9a-f]{40})$/.exec(ref) : null;
    if (m !== null) return m[1];
  }
  let found: string | undefined;
  visitReferences(resource, (ref) => {
    const m = /^Patient\/([0-9a-f]{40})$/.exec(ref);
    if (found === undefined && m !== null) found = m[1];
  });
  return found;
}

/** Block time as a FHIR instant. */
function instant(ms: number): string {
  return new Date(ms).toISOString();
}

export class FhirRepository {
  constructor(
    readonly agent: OrgAgent,
    readonly custody: CustodyStore,
    private readonly gate: Gatekeeper,
  ) {}

  get orgId(): string {
    return this.agent.orgId;
  }

  // ---- Patients in custody -----------------------------------------------------------

  /** Make a new patient's keys and keep them in custody; nothing is on chain yet. */
  newCustodialPatient(): { patientId: string; keys: KeyBundle } {
    const keys = generateKeyBundle();
    const patientId = identityIdOf(keys);
    this.custody.save(patientId, keys);
    return { patientId, keys };
  }

  /**
   * Submit the patient's registration and the custody grant (read-write, treatment, every
   * category this server writes) to this organization, signed with the patient's key.
   */
  submitRegistration(keys: KeyBundle): string[] {
    // As a patient's own client does (docs/emergency.md): a fresh emergency key, split among
    // the validators and sealed to each; its private half is not kept.
    const emergencyKey = generateEncryptionKeyPair();
    const register = this.agent.submit(
      'identity.register',
      { role: 'patient', encryptionKey: keys.encryption.publicKey, emergencyKey: emergencyKey.publicKey },
      keys,
    );
    const params = emergencyParams(this.agent.node.chain.genesis);
    // The current holders from this node's own committed state: the genesis validators until
    // governance changes the set, then the latest set decided (docs/emergency.md).
    const holders = emergencyHolders(this.agent.node.chain.state);
    const split = buildEmergencySplit(identityIdOf(keys), emergencyKey, {
      threshold: emergencyThreshold(holders.length),
      maxDurationMs: params.maxDurationMs,
      validators: holders.map(({ id, encryptionKey }) => ({ id, name: null, encryptionKey })),
    });
    const splitHash = this.agent.submit('emergency.split', split as unknown as object, keys);
    const grant = this.agent.submit(
      'consent.grant',
      {
        patient: identityIdOf(keys),
        grantee: this.orgId,
        scope: { categories: [...ALL_CATEGORIES] },
        access: 'read-write',
        purpose: 'treatment',
      },
      keys,
    );
    return [register, splitHash, grant];
  }

  // ---- Writes ------------------------------------------------------------------------

  /**
   * Encrypt and seal a resource for `patient` and put its objects in the vault; the anchor
   * is `submitWrite`'s. `logicalId` is the FHIR id (the first version's record id, or the
   * patient id for a Patient). The stored resource carries `id` and `meta.versionId`.
   */
  prepareWrite(patient: string, resource: Resource, opts: { logicalId?: string; supersedes?: string; recordId?: string } = {}) {
    const recordId = opts.recordId ?? newRecordId();
    const logicalId = opts.logicalId ?? recordId;
    const meta: Json = { ...((resource as unknown as Json).meta as Json | undefined), versionId: recordId };
    delete meta.lastUpdated;
    const stored = { ...resource, id: logicalId, meta } as Resource;
    const category = categoryOf(stored as { resourceType: string });
    const sealed = encryptRecord(stored, { record: recordId, patient, category, resourceType: stored.resourceType });
    try {
      const envelopes = this.agent
        .recipients(patient, { id: recordId, category, resourceType: stored.resourceType })
        .map((r) => ({ to: r.to, ...sealDataKey(sealed.dataKey, recordId, r.to, r.encryptionKey) }));
      this.agent.putObject(sealed.contentHash, sealed.object);
      for (const e of envelopes) this.agent.putObject(e.hash, e.object);
      const body: Json = {
        record: recordId,
        patient,
        resourceType: stored.resourceType,
        category,
        contentHash: sealed.contentHash,
        size: sealed.object.length,
        envelopes: envelopes.map((e) => ({ to: e.to, hash: e.hash })),
      };
      if (opts.supersedes !== undefined) body.supersedes = opts.supersedes;
      return { recordId, logicalId, patient, resource: stored, body } satisfies PreparedWrite;
    } finally {
      sealed.dataKey.fill(0);
    }
  }

  /** Anchor a prepared write with the organization's key. Returns the tx hash. */
  submitWrite(w: PreparedWrite): string {
    return this.agent.submit('record.anchor', w.body);
  }

  /** May `caller` write a record of this kind for `patient` now (committed state)? Throws FhirError 403. */
  requireWrite(caller: Identity, patient: string, resource: Resource): void {
    const patientIdentity = getIdentity(this.agent.state, patient);
    const target = { id: '', category: categoryOf(resource as { resourceType: string }), resourceType: resource.resourceType };
    const org = getIdentity(this.agent.state, this.orgId);
    if (
      patientIdentity?.role !== 'patient' ||
      org === undefined ||
      !mayWrite(this.agent.state, caller, patient, target, this.agent.blockTime) ||
      !mayWrite(this.agent.state, org, patient, target, this.agent.blockTime)
    )
      throw new FhirError(403, 'forbidden', 'no such patient, or this organization may not write this resource for them');
  }

  /**
   * May `caller` (this organization or its staff) register a new patient into custody and
   * write `resource` for them? The custody grant is the organization's (read-write, every
   * category), so this is mayWrite's rule for it: the organization itself, or staff whose
   * role may write that category (not researchers, auditors or privacy officers; a device
   * only its categories). Checked before anything is generated or submitted. Throws FhirError 403.
   */
  requireCustodialWrite(caller: Identity, resource: Resource): void {
    const target = { category: categoryOf(resource as { resourceType: string }) };
    if (caller.id !== this.orgId && !(caller.org === this.orgId && staffRoleMayWrite(caller.role, target)))
      throw new FhirError(
        403,
        'forbidden',
        `your staff role may not write a ${resource.resourceType} under the organization's custody grant`,
      );
  }

  // ---- Reads -------------------------------------------------------------------------

  /**
   * The versions of `type/id`, first to latest. A malformed id is 404; an id that names
   * nothing of that type is 403, like a refused read, so ids cannot be probed (and, with
   * `caller`, recorded as a denied access).
   */
  versions(type: string, id: string, caller?: Identity): RecordMeta[] {
    const state = this.agent.state;
    let first: RecordMeta | undefined;
    if (type === 'Patient') {
      if (!PATIENT_ID.test(id)) throw new FhirError(404, 'not-found', `Patient/${id} cannot exist here: ids are 40 hex digits`);
      for (const recordId of this.agent.idsUnder(prefixes.patientRecords(id))) {
        const r = getRecord(state, recordId);
        if (
          r?.resourceType === 'Patient' &&
          r.supersedes === null &&
          (first === undefined || r.anchoredAt.height < first.anchoredAt.height)
        )
          first = r;
      }
    } else {
      if (!RECORD_ID.test(id)) throw new FhirError(404, 'not-found', `${type}/${id} cannot exist here: ids are 32 hex digits`);
      const r = getRecord(state, id);
      if (r?.resourceType === type && r.supersedes === null) first = r;
    }
    if (first === undefined) {
      // Refused like any read, and on the record: the patient sees attempts on their ids.
      if (caller !== undefined) {
        const known = type === 'Patient' ? undefined : getRecord(state, id);
        const patient = known?.patient ?? (getIdentity(state, id)?.role === 'patient' ? id : null);
        this.gate.record({
          record: type === 'Patient' ? null : id,
          patient,
          accessor: caller.id,
          purpose: null,
          decision: 'denied',
          reason: 'UNKNOWN_RECORD',
          emergency: false,
        });
      }
      throw new FhirError(403, 'forbidden', 'no such resource, or you may not read it');
    }
    const chain = [first];
    for (let next = first.supersededBy; next !== null; ) {
      const r = getRecord(state, next);
      if (r === undefined) break;
      chain.push(r);
      next = r.supersededBy;
    }
    return chain;
  }

  /** The latest version of `type/id` (see `versions`). */
  latest(type: string, id: string, caller?: Identity): RecordMeta {
    const chain = this.versions(type, id, caller);
    return chain[chain.length - 1] as RecordMeta;
  }

  /**
   * Read and decrypt one record version as `caller`: the one read gate decides (exactly as
   * for `GET /v1/records/:id`: grants, `purpose`, emergency windows) and records the access,
   * then the organization's envelope opens the data key. Throws FhirError 403/410/503.
   */
  async readVersion(caller: Identity, record: RecordMeta, purpose?: Purpose): Promise<Resource> {
    let read: ServedRead;
    try {
      read = await this.gate.read(caller, record.id, { as: this.orgId, ...(purpose === undefined ? {} : { purpose }) });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.code === 'RECORD_ERASED') throw new FhirError(410, 'deleted', 'this resource was erased by the patient');
      if (err.code === 'OBJECT_UNAVAILABLE') throw new FhirError(503, 'transient', 'this node cannot serve the resource right now; retry');
      throw new FhirError(403, 'forbidden', 'no such resource, or you may not read it');
    }
    const dataKey = openDataKey(
      JSON.parse(Buffer.from(read.envelope).toString('utf8')),
      record.id,
      this.orgId,
      this.agent.orgKeys.encryption.privateKey,
    );
    try {
      const labels = { record: record.id, patient: record.patient, category: record.category, resourceType: record.resourceType };
      let resource: Json;
      try {
        resource = openRecord(read.ciphertext, dataKey, labels) as Json;
      } catch (err) {
        // Filed under other labels than it was written with: never serve it as what it claims to be.
        if (hasClientCode(err, 'RECORD_MISLABELED')) throw new MislabeledRecordError(record.id, (err as Error).message);
        throw err;
      }
      resource.meta = { ...(resource.meta as Json), versionId: record.id, lastUpdated: instant(record.anchoredAt.time) };
      return resource as unknown as Resource;
    } finally {
      dataKey.fill(0);
    }
  }

  /**
   * The latest versions of the records `caller` may read (not erased, covered by an
   * active grant, sealed to this organization), of one patient or of every patient who
   * granted the caller or its organization anything; oldest first.
   */
  visibleRecords(caller: Identity, patient?: string): RecordMeta[] {
    const state = this.agent.state;
    const grantees = granteeIdsFor(state, caller);
    const patients = patient !== undefined ? [patient] : [...new Set(grantees.flatMap((g) => this.agent.idsUnder(prefixes.sharedWith(g))))];
    const out: RecordMeta[] = [];
    for (const p of patients) {
      const grants = grantsFrom(state, p, grantees).filter((g) => grantIsActive(g, this.agent.blockTime));
      if (grants.length === 0) continue;
      for (const recordId of this.agent.idsUnder(prefixes.patientRecords(p))) {
        const r = getRecord(state, recordId);
        if (
          r !== undefined &&
          r.erased === null &&
          r.supersededBy === null &&
          r.envelopes[this.orgId] !== undefined &&
          // As decideRead judges each read: an organization's grant serves staff within their role.
          grants.some((g) => grantCoversRecord(g, r) && (g.grantee === caller.id || staffRoleMayUse(caller.role, g.purpose, r)))
        )
          out.push(r);
      }
    }
    return out.sort((a, b) => a.anchoredAt.height - b.anchoredAt.height || (a.id < b.id ? -1 : 1));
  }
}

/** The ledger id of a key bundle's identity. */
export function identityIdOf(keys: KeyBundle): string {
  return idFromPublicKey(keys.signing.publicKey);
}
