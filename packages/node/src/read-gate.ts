// The one record read gate (docs/records.md "Reading"): `GET /v1/records/:id` and the FHIR
// endpoint both ask it, so grants, purpose and emergency windows are judged by one path, and
// every answer, served or refused, is recorded as an access event before it leaves.
import {
  type AccessEventInput,
  decideEmergencyRead,
  decideRead,
  EMERGENCY_RECIPIENT,
  emergencyWindowOf,
  type Identity,
  type Purpose,
  type RecordMeta,
  type StateReader,
} from '@medledger/ehr';
import { ApiError } from './errors.js';
import type { OrgResealer } from './org-reseal.js';

/** How a read is asked for. */
export interface ReadOptions {
  /** The purpose of use the caller states; none lets a grantee read under its grant's purpose. */
  purpose?: Purpose;
  /**
   * Whose key envelope the reader will open. Absent: the caller's own device (its envelope,
   * or the patient's `emergency` envelope in a break-glass window). An organization id: the
   * organization's own system (its FHIR endpoint), which holds that organization's key.
   */
  as?: string;
}

/** A served read: the record, its ciphertext, the envelope for `envelopeFor`, and the logged event's id. */
export interface ServedRead {
  record: RecordMeta;
  ciphertext: Uint8Array;
  envelope: Uint8Array;
  envelopeFor: string;
  /** The read happened in the caller's emergency window on the patient. */
  emergency: boolean;
  event: string;
}

/** What the gate needs from the node: committed state, the access time, the vault and the access log. */
export interface ReadGateDeps {
  state: StateReader;
  accessTime(): number;
  getVerified(hash: string): Promise<Uint8Array | undefined>;
  /** Queue the event durably; resolves with its id once it is on disk. */
  record(event: Omit<AccessEventInput, 'id' | 'at'>): Promise<string>;
  /** This node's organization key, when it is its organization's system (org-reseal.ts). */
  resealer?: OrgResealer;
}

/**
 * Decide, log and serve a read of `recordId` by `caller`. The ordinary rules (patient,
 * delegate, grant with purpose) come first; only when they refuse does the caller's open
 * emergency window on the patient apply; every read by a window's clinician is tagged
 * emergency. Throws ApiError: ACCESS_DENIED, RECORD_ERASED, NO_ENVELOPE, ORGANIZATION_KEY,
 * OBJECT_UNAVAILABLE, each after the refusal is recorded.
 */
export async function gateRead(deps: ReadGateDeps, caller: Identity, recordId: string, opts: ReadOptions = {}): Promise<ServedRead> {
  const { state } = deps;
  const time = deps.accessTime();
  const ordinary = decideRead(state, caller, recordId, opts.purpose, time);
  const emergencyDecision = ordinary.allowed ? undefined : decideEmergencyRead(state, caller, recordId, time);
  const decision = emergencyDecision ?? ordinary;
  const patient = decision.record?.patient ?? null;
  const emergency = patient !== null && emergencyWindowOf(state, caller, patient, time) !== undefined;
  const base = { record: recordId, patient, accessor: caller.id, purpose: decision.purpose, emergency };
  const refuse = async (reason: string, error: ApiError): Promise<never> => {
    await deps.record({ ...base, decision: 'denied', reason });
    throw error;
  };
  if (!decision.allowed) {
    if (decision.reason === 'ERASED') return refuse('ERASED', new ApiError('RECORD_ERASED', 'this record was erased by the patient'));
    if (decision.reason === 'NO_ENVELOPE')
      return refuse(
        'NO_ENVELOPE',
        new ApiError('NO_ENVELOPE', 'you may read this record, but its key has not been shared with you yet', 409),
      );
    return refuse(decision.reason, new ApiError('ACCESS_DENIED', 'no such record, or you have no active permission to read it'));
  }
  const record = decision.record;
  const envelopeFor = chooseEnvelope(record, caller, decision.envelopeFor, opts.as);
  // A hospital-wide share read by its staff on the hospital's own node: re-sealed to the
  // staff member's key, so no staff device ever holds the organization's private key.
  const resealed = envelopeFor === undefined && opts.as === undefined && deps.resealer?.orgId === decision.envelopeFor;
  if (envelopeFor === undefined && !resealed) {
    if (opts.as !== undefined)
      return refuse('NO_ENVELOPE', new ApiError('NO_ENVELOPE', "this record's key was not shared with your organization's system", 409));
    return refuse(
      'ORGANIZATION_KEY',
      new ApiError(
        'ORGANIZATION_KEY',
        "this record is shared with your organization, which holds its key: open it on your organization's own MedLedger node (it re-seals the key to you), or ask the patient to share it with you",
        409,
      ),
    );
  }
  const stored = envelopeFor ?? decision.envelopeFor;
  const ciphertext = await deps.getVerified(record.contentHash);
  const sealed = await deps.getVerified(record.envelopes[stored] as string);
  if (ciphertext === undefined || sealed === undefined)
    return refuse(
      'OBJECT_UNAVAILABLE',
      new ApiError('OBJECT_UNAVAILABLE', 'this node cannot serve the record right now; retry, or ask another node'),
    );
  let envelope = sealed;
  if (resealed) {
    try {
      envelope = (deps.resealer as OrgResealer).reseal(sealed, record.id, caller);
    } catch {
      // The organization's envelope did not open with this node's key: its writer sealed it
      // wrongly or the key was rotated; refuse rather than guess.
      return refuse('NO_ENVELOPE', new ApiError('NO_ENVELOPE', "this record's key could not be opened by your organization's system", 409));
    }
  }
  // On disk before the record leaves: a crash cannot lose the trace of a served read.
  const event = await deps.record({ ...base, decision: 'allowed', reason: 'OK' });
  return { record, ciphertext, envelope, envelopeFor: envelopeFor ?? caller.id, emergency, event };
}

/**
 * The envelope the reader can open. An organization's system opens only the organization's
 * envelope. A device opens its own, or the `emergency` one in a window; a grant to the
 * caller's organization seals the key to the organization, which a staff device cannot open.
 */
function chooseEnvelope(record: RecordMeta, caller: Identity, decided: string, as: string | undefined): string | undefined {
  if (as !== undefined) return record.envelopes[as] === undefined ? undefined : as;
  if (decided === caller.id || decided === EMERGENCY_RECIPIENT) return decided;
  return record.envelopes[caller.id] === undefined ? undefined : caller.id;
}
