// Vault object ownership (docs/records.md "Vault ownership and quotas"): every object hash a
// record names belongs to that record alone, kept in state so every validator agrees. Nobody
// can name another record's objects, and erasing a record deletes only what it owns.
import { KEY_ENVELOPE_BYTES } from '@medledger/crypto';
import { EhrError } from './errors.js';
import { getRecord } from './policy.js';
import { keys, readJson, type StateOverlay, type StateReader, type StateWrite, writeJson } from './state.js';

/** The one record an object hash belongs to, and whether the record has let go of it. */
export interface ObjectOwner {
  record: string;
  /**
   * True once the record no longer refers to the object (erased, or the envelope was
   * replaced): every node deletes it. Kept, so the hash can never be claimed again.
   */
  released: boolean;
}

/** The owner of `hash`, if any record ever named it. */
export function objectOwner(state: StateReader, hash: string): ObjectOwner | undefined {
  return readJson<ObjectOwner>(state, keys.object(hash));
}

/**
 * Make `record` the one owner of `hash`. Throws OBJECT_IN_USE when any record (this one
 * included, erased or not) has ever named it: naming another patient's ciphertext or
 * envelope is how one record could erase another's objects.
 */
export function claimObject(state: StateOverlay, hash: string, record: string): void {
  if (objectOwner(state, hash) !== undefined)
    throw new EhrError('OBJECT_IN_USE', `object ${hash.slice(0, 16)}… is already named by a record; upload a fresh object`);
  writeJson(state, keys.object(hash), { record, released: false } satisfies ObjectOwner);
}

/**
 * `record` lets go of `hash` (erasure, or a replaced envelope): nodes delete the object in
 * the block that commits this. Only the owning record can release an object, so an erasure
 * never deletes anything another record refers to. Returns whether it was released.
 */
export function releaseObject(state: StateOverlay, hash: string, record: string): boolean {
  const owner = objectOwner(state, hash);
  if (owner === undefined || owner.record !== record || owner.released) return false;
  writeJson(state, keys.object(hash), { record, released: true } satisfies ObjectOwner);
  return true;
}

/**
 * The exact size the chain implies for object `hash`: its record's declared `size` for the
 * ciphertext, KEY_ENVELOPE_BYTES for an envelope. Undefined when no record refers to it now.
 * Nodes refuse fetched copies of another size, so an anchor that slipped past admission
 * with a lying size or an oversized "envelope" pins nothing on honest nodes.
 */
export function objectSizeOnChain(state: StateReader, hash: string): number | undefined {
  const owner = objectOwner(state, hash);
  const record = owner === undefined || owner.released ? undefined : getRecord(state, owner.record);
  if (record === undefined) return undefined;
  return record.contentHash === hash ? record.size : KEY_ENVELOPE_BYTES;
}

/**
 * What a committed block did to the vault, from its state writes (so every kind that names
 * objects is covered by one rule): `anchored` hashes a record now refers to, which nodes keep
 * and fetch; `released` hashes no record refers to any more, which nodes delete. Sorted.
 */
export function objectEffects(writes: readonly StateWrite[]): { anchored: string[]; released: string[] } {
  const anchored: string[] = [];
  const released: string[] = [];
  const prefix = keys.object('');
  for (const w of writes) {
    if (!w.key.startsWith(prefix)) continue;
    const hash = w.key.slice(prefix.length);
    const owner = w.value === null ? undefined : (JSON.parse(w.value) as ObjectOwner);
    if (owner === undefined || owner.released) released.push(hash);
    else anchored.push(hash);
  }
  return { anchored, released };
}

/** The vault objects a transaction names: a record's ciphertext with its declared size, and key envelopes. */
export interface NamedObjects {
  content?: { hash: string; size: number };
  envelopes: string[];
}

/**
 * The objects a transaction of `kind` names, from a body its kind's rules already accepted
 * (checkTx), so nodes can check them against their vault before admitting it.
 */
export function namedObjects(kind: string, txBody: unknown): NamedObjects {
  const body = (typeof txBody === 'object' && txBody !== null ? txBody : {}) as Record<string, unknown>;
  const envelopes = Array.isArray(body.envelopes) ? body.envelopes.map((e: { hash?: unknown }) => String(e.hash)) : [];
  switch (kind) {
    case 'record.anchor':
      return { content: { hash: String(body.contentHash), size: Number(body.size) }, envelopes };
    case 'medication.dispense': {
      // The dispense anchors the pharmacy's MedicationDispense record (medicines/rx.ts).
      const r = (typeof body.record === 'object' && body.record !== null ? body.record : {}) as Record<string, unknown>;
      const recordEnvelopes = Array.isArray(r.envelopes) ? r.envelopes.map((e: { hash?: unknown }) => String(e.hash)) : [];
      return { content: { hash: String(r.contentHash), size: Number(r.size) }, envelopes: recordEnvelopes };
    }
    case 'record.share':
    case 'consent.grant':
    case 'emergency.rewrap':
      return { envelopes };
    default:
      return { envelopes: [] };
  }
}
