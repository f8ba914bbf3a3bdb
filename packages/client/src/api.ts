// MedLedgerClient: the SDK a patient, clinician or organization uses against one node —
// records encrypted, sealed and shared on the client (docs/records.md), consent, delegation.
import { type EncryptionKeyPair, generateEncryptionKeyPair, sha256Hex } from '@medledger/crypto';
import { provenAccessLogPage } from './access-log.js';
import { type CommittedTx, NodeConnection, type SubmittedTx } from './connection.js';
import { activeEmergencyWindowOn, buildEmergencySplit, trustedEmergencyNetwork } from './emergency.js';
import { recoverEmergencyKey } from './emergency-recover.js';
import { ClientError, hasClientCode } from './errors.js';
import { allItems, nextAt, type Page, type PageRequest, pageQuery } from './paging.js';
import {
  delegatesLeftOut,
  grantsLeftOut,
  provenDelegations,
  provenGrants,
  provenIdentity,
  provenRecipients,
  provenRecords,
} from './proven-facts.js';
import { EMERGENCY_RECIPIENT, encryptRecord, newRecordId, openDataKey, openRecord, sealDataKey } from './record-crypto.js';
import { listedRecords, provenOwnRecordsPage } from './record-list.js';
import {
  type AccessEvent,
  type AccessLogPage,
  arrayAt,
  type Delegation,
  decodeBase64,
  type FhirResource,
  type Grant,
  objectAt,
  parseDelegation,
  parseGrant,
  parseRecipient,
  parseRecordRead,
  type Recipient,
  type RecordMeta,
  type RecordReadAnswer,
} from './responses.js';
import { refuse } from './trust.js';
import {
  type Access,
  consentGrantBody,
  consentRevokeBody,
  delegateAcceptBody,
  delegateRemoveBody,
  delegateSetBody,
  type GrantScope,
  grantIdOf,
  identityRegisterBody,
  MAX_SHARE_ENVELOPES,
  type Purpose,
  type RecordEnvelope,
  recordAnchorBody,
  recordEraseBody,
  recordShareBody,
} from './tx-builders.js';

/** A sealed, uploaded record's anchor fields, for the transaction that anchors it. */
export interface RecordAnchorFields {
  record: string;
  patient: string;
  resourceType: string;
  category: string;
  contentHash: string;
  size: number;
  envelopes: Array<{ to: string; hash: string }>;
}

/** What `grant` did: the grant's id, its transaction, and the record.share txs that followed. */
export interface GrantResult {
  grantId: string;
  txHash: string;
  shareTxHashes: string[];
}

const enc = encodeURIComponent;

/** Does a grant scope (a union of lists) cover this record? */
export function scopeCoversRecord(scope: GrantScope, record: Pick<RecordMeta, 'record' | 'category' | 'resourceType'>): boolean {
  return (
    (scope.categories ?? []).includes(record.category) ||
    (scope.resourceTypes ?? []).includes(record.resourceType) ||
    (scope.records ?? []).includes(record.record)
  );
}

/**
 * A client of one MedLedger node acting as one identity (see NodeConnection for sessions,
 * nonces and transactions). Every method throws ClientError unless it says otherwise.
 */
export class MedLedgerClient extends NodeConnection {
  // ---- Identities ----------------------------------------------------------------------

  /**
   * Register this client's keys as a patient, with a fresh emergency X25519 key pair whose
   * private key is split among the trusted genesis validators (`emergency.split`,
   * docs/emergency.md); the caller need not keep it. Nothing is submitted unless the node's
   * validator set is the trusted one. Throws ClientError (`NO_TRUSTED_GENESIS`, `GENESIS_MISMATCH` …).
   */
  async registerPatient(): Promise<{ id: string; emergencyKey: EncryptionKeyPair; txHash: string; height: number }> {
    const network = await trustedEmergencyNetwork(this);
    const emergencyKey = generateEncryptionKeyPair();
    const body = identityRegisterBody({ encryptionKey: this.keys.encryption.publicKey, emergencyKey: emergencyKey.publicKey });
    const registered = await this.submit('identity.register', body);
    const split = await this.submit('emergency.split', buildEmergencySplit(this.id, emergencyKey, network));
    const done = await this.waitForTx(registered.hash);
    const splitDone = await this.waitForTx(split.hash);
    return { id: this.id, emergencyKey, txHash: registered.hash, height: Math.max(done.height, splitDone.height) };
  }

  // ---- Records -------------------------------------------------------------------------

  /** `PUT /v1/vault/:hash` with the raw object. Throws ClientError (`VAULT_HASH_MISMATCH` if the node filed it elsewhere). */
  async putObject(object: Uint8Array): Promise<string> {
    const hash = sha256Hex(object);
    const answer = objectAt(await this.request({ method: 'PUT', path: `/v1/vault/${hash}`, bytes: object }, true), 'vault');
    if (answer.hash !== hash) throw new ClientError('VAULT_HASH_MISMATCH', `the vault stored object ${hash} as ${String(answer.hash)}`);
    return hash;
  }

  /** `GET /v1/patients/:id/recipients`: who a new record of this kind must be sealed to. Throws ClientError. */
  async recipients(patient: string, category: string, resourceType: string): Promise<Recipient[]> {
    const path = `/v1/patients/${enc(patient)}/recipients?category=${enc(category)}&resourceType=${enc(resourceType)}`;
    return arrayAt(objectAt(await this.get(path, { auth: true }), 'answer'), 'recipients', 'answer').map(parseRecipient);
  }

  /**
   * Write a record (docs/records.md "Records"): encrypt the resource under a fresh key bound
   * to its labels, seal the key to every recipient and this author, upload the objects,
   * anchor and wait. The recipients and their keys are proven against the trusted genesis
   * (proven-facts.ts `provenRecipients`); the node's list is only compared with them, and
   * nothing is uploaded or sealed to a key the proven state does not hold. The chain
   * requires exactly those recipients at block time; if a grant or delegation changed in
   * between (RECIPIENT_MISSING or RECIPIENT_NOT_ALLOWED) they are proven and sealed once
   * more. Throws ClientError (`INVALID_ARGUMENT` for a resource without a FHIR type, a
   * TrustErrorCode such as `FACT_NOT_PROVEN`, or the anchor's rejection code).
   */
  async writeRecord(opts: { patient: string; resource: FhirResource; category: string; supersedes?: string }): Promise<{
    recordId: string;
    txHash: string;
    height: number;
    /** Vault hash of the record's ciphertext, as anchored. */
    contentHash: string;
    /** The height the recipients and their keys were proven at. */
    provenAt: number;
  }> {
    const written = await this.sealAndAnchor(opts, (anchor) =>
      this.submitAndWait('record.anchor', recordAnchorBody({ ...anchor, supersedes: opts.supersedes })),
    );
    return {
      recordId: written.recordId,
      txHash: written.done.hash,
      height: written.done.height,
      contentHash: written.contentHash,
      provenAt: written.provenAt,
    };
  }

  /**
   * The one path that encrypts and seals a new record (writeRecord, and the MedicationDispense
   * a dispense anchors, medicines-dispense.ts): encrypt, seal the data key to the proven
   * recipients and this author, upload the objects, then `anchor` them in the transaction the
   * caller submits. A recipient race (RECIPIENT_MISSING / RECIPIENT_NOT_ALLOWED) is retried
   * once with freshly proven recipients. Throws ClientError as writeRecord.
   */
  async sealAndAnchor<T>(
    opts: { patient: string; resource: FhirResource; category: string },
    anchor: (fields: RecordAnchorFields) => Promise<T>,
  ): Promise<{ recordId: string; contentHash: string; provenAt: number; done: T }> {
    const resourceType = opts.resource?.resourceType;
    if (typeof resourceType !== 'string') throw new ClientError('INVALID_ARGUMENT', 'resource.resourceType must be a FHIR type name');
    const reader = this.verified('writing a record');
    const recordId = newRecordId();
    const sealed = encryptRecord(opts.resource, { record: recordId, patient: opts.patient, category: opts.category, resourceType });
    try {
      for (let attempt = 1; ; attempt++) {
        const told = await this.recipients(opts.patient, opts.category, resourceType);
        const proven = await provenRecipients(reader, opts.patient, { category: opts.category, resourceType }, told);
        // The author always gets an envelope, sealed to the key this client actually holds.
        const byLabel = new Map<string, string>(proven.value.map((r) => [r.to, r.encryptionKey]));
        byLabel.set(this.id, this.keys.encryption.publicKey);
        const envelopes = [...byLabel].map(([to, key]) => ({ to, ...sealDataKey(sealed.dataKey, recordId, to, key) }));
        const objects = [...(attempt === 1 ? [sealed.object] : []), ...envelopes.map((e) => e.object)];
        await Promise.all(objects.map((o) => this.putObject(o)));
        try {
          const done = await anchor({
            record: recordId,
            patient: opts.patient,
            resourceType,
            category: opts.category,
            contentHash: sealed.contentHash,
            size: sealed.object.length,
            envelopes: envelopes.map((e) => ({ to: e.to, hash: e.hash })),
          });
          return { recordId, contentHash: sealed.contentHash, provenAt: proven.height, done };
        } catch (err) {
          const raced = hasClientCode(err, 'RECIPIENT_MISSING') || hasClientCode(err, 'RECIPIENT_NOT_ALLOWED');
          if (!raced || attempt >= 2) throw err;
        }
      }
    } finally {
      sealed.dataKey.fill(0);
    }
  }

  private async fetchRecord(recordId: string, purpose: Purpose | undefined): Promise<RecordReadAnswer> {
    const query = purpose === undefined ? '' : `?purpose=${enc(purpose)}`;
    const answer = parseRecordRead(await this.get(`/v1/records/${enc(recordId)}${query}`, { auth: true }));
    if (answer.record.record !== recordId)
      throw new ClientError('MALFORMED_RESPONSE', `asked for record ${recordId}, got ${answer.record.record}`);
    return answer;
  }

  private openAnswerKey(answer: RecordReadAnswer): Uint8Array {
    return openDataKey(answer.envelope, answer.record.record, answer.envelopeFor ?? this.id, this.keys.encryption.privateKey);
  }

  /**
   * Read and decrypt a record: fetch it (the node logs the read with `purpose`), prove its
   * anchor, check the ciphertext hashes to the proven contentHash before any decryption, open
   * this client's envelope, decrypt under the anchored labels and check the resource type.
   * Throws ClientError (`ACCESS_DENIED`, `RECORD_ERASED`, `CONTENT_HASH_MISMATCH`,
   * `RECORD_MISLABELED`, a TrustErrorCode …) or CryptoError('DECRYPT_FAILED') for an envelope
   * that does not open.
   */
  async readRecord(recordId: string, purpose?: Purpose): Promise<{ meta: RecordMeta; resource: object }> {
    const reader = this.verified('reading a record');
    const answer = await this.fetchRecord(recordId, purpose);
    const [meta] = (await provenRecords(reader, [answer.record])).value as [RecordMeta];
    answer.record = meta;
    const object = decodeBase64(answer.ciphertext, 'answer.ciphertext');
    if (sha256Hex(object) !== meta.contentHash) {
      throw new ClientError('CONTENT_HASH_MISMATCH', `record ${recordId}: the ciphertext does not match the anchored contentHash`);
    }
    const dataKey = answer.envelopeFor === EMERGENCY_RECIPIENT ? await this.openEmergencyAnswerKey(answer) : this.openAnswerKey(answer);
    try {
      const { patient, category, resourceType } = answer.record;
      return { meta: answer.record, resource: openRecord(object, dataKey, { record: recordId, patient, category, resourceType }) };
    } finally {
      dataKey.fill(0);
    }
  }

  // Break-glass reads come with the `emergency` envelope: rebuild the patient's emergency key
  // from the shares the validators posted to this clinician (kept in memory per window).
  private readonly emergencyKeys = new Map<string, string>();
  private async openEmergencyAnswerKey(answer: RecordReadAnswer): Promise<Uint8Array> {
    const window = await activeEmergencyWindowOn(this, answer.record.patient);
    if (window === undefined) throw new ClientError('WINDOW_CLOSED', 'no active emergency window on this patient');
    let key = this.emergencyKeys.get(window.id);
    if (key === undefined) {
      const recovered = recoverEmergencyKey(window, this.keys.encryption.privateKey);
      if (recovered === undefined)
        throw new ClientError('EMERGENCY_PENDING', `emergency window ${window.id}: too few validators have posted their shares yet`);
      key = recovered.privateKey;
      this.emergencyKeys.set(window.id, key);
    }
    return openDataKey(answer.envelope, answer.record.record, EMERGENCY_RECIPIENT, key);
  }

  /**
   * `GET /v1/patients/:id/records`: one page of the records the caller may see, each anchor
   * proven (`provenAt`). Throws ClientError (a TrustErrorCode when an anchor is not the committed one).
   */
  async recordsPage(patient: string, page: PageRequest = {}): Promise<Page<RecordMeta>> {
    const reader = this.verified('listing records');
    const body = await this.get(`/v1/patients/${enc(patient)}/records${pageQuery(page)}`, { auth: true });
    // The patient's own list is proven complete; another reader's is filtered by their grants.
    if (patient === this.id) return provenOwnRecordsPage(reader, patient, page.cursor, body);
    const answer = objectAt(body, 'answer');
    return { items: (await provenRecords(reader, listedRecords(answer, patient))).value, next: nextAt(answer, 'answer') };
  }

  /** Every record the caller may see of `patient`, following the pages, each proven. Throws ClientError. */
  async listRecords(patient: string): Promise<RecordMeta[]> {
    return allItems((cursor) => this.recordsPage(patient, { cursor }));
  }

  /** Erase a record (`record.erase`, patient or delegate) and wait. Throws ClientError. */
  async erase(recordId: string): Promise<CommittedTx> {
    return this.submitAndWait('record.erase', recordEraseBody(recordId));
  }

  // ---- Consent -------------------------------------------------------------------------

  /** `GET /v1/patients/:id/grants`: one page of active grants, or of all with `all`, each proven (`provenAt`). Throws ClientError. */
  async grantsPage(patient: string, opts: PageRequest & { all?: boolean } = {}): Promise<Page<Grant>> {
    const reader = this.verified('showing grants');
    const query = pageQuery(opts, { all: opts.all === true ? 'true' : undefined });
    const answer = objectAt(await this.get(`/v1/patients/${enc(patient)}/grants${query}`, { auth: true }), 'answer');
    const told = arrayAt(answer, 'grants', 'answer').map(parseGrant);
    // Proven grants, but of this patient only: another patient's real grant is not one of theirs.
    const stranger = told.find((g) => g.patient !== patient);
    if (stranger !== undefined) refuse('FACT_NOT_PROVEN', `the node lists grant ${stranger.id} of another patient among ${patient}'s`);
    return { items: (await provenGrants(reader, told)).value, next: nextAt(answer, 'answer') };
  }

  /**
   * Every grant of `patient` (active ones, or all with `all`), following the pages, each
   * proven, and the list proven complete: a grant the chain's indexes hold that the node left
   * out (or one it listed twice) is refused with FACT_NOT_PROVEN, so a node cannot hide
   * someone's access from the patient. A grant made while the pages were read is caught by
   * one fresh listing. Throws ClientError.
   */
  async grants(patient: string, all = false): Promise<Grant[]> {
    const reader = this.verified('showing grants');
    for (let attempt = 1; ; attempt++) {
      const listed = await allItems((cursor) => this.grantsPage(patient, { all, cursor }));
      const seen = new Set<string>();
      const twice = listed.find((g) => seen.size === seen.add(g.id).size);
      if (twice !== undefined) refuse('FACT_NOT_PROVEN', `the node lists grant ${twice.id} twice`);
      const missing = await grantsLeftOut(reader, patient, listed, all);
      if (missing.length === 0) return listed;
      if (attempt === 2)
        refuse(
          'FACT_NOT_PROVEN',
          `the node left grant ${missing[0]} out of ${patient}'s ${all ? '' : 'active '}grants, which the chain holds`,
        );
    }
  }

  /**
   * The grants of `patient` that `by` made (`grantedBy`, proven), active ones or all with
   * `all`: typically the shares a delegate made, which stay in force after the delegate is
   * removed until someone revokes them (docs/records.md "Delegates"). Filters `grants`, so
   * the list is proven complete and a node cannot hide one. Throws ClientError.
   */
  async grantsMadeBy(patient: string, by: string, all = false): Promise<Grant[]> {
    return (await this.grants(patient, all)).filter((g) => g.grantedBy === by);
  }

  /** `GET /v1/me/grants`: one page of the grants naming this identity or its organization, each proven. Throws ClientError. */
  async myGrantsPage(page: PageRequest = {}): Promise<Page<Grant>> {
    const reader = this.verified('showing grants');
    const answer = objectAt(await this.get(`/v1/me/grants${pageQuery(page)}`, { auth: true }), 'answer');
    const told = arrayAt(answer, 'grants', 'answer').map(parseGrant);
    return { items: (await provenGrants(reader, told)).value, next: nextAt(answer, 'answer') };
  }

  /** Every grant naming this identity or its organization, following the pages, each proven. Throws ClientError. */
  async myGrants(): Promise<Grant[]> {
    return allItems((cursor) => this.myGrantsPage({ cursor }));
  }

  /**
   * `GET /v1/patients/:id/access-log`: one page of the log, newest first, with the newest
   * emergency reads apart in `emergency` (on every page, so none can be pushed out of view).
   * Both are proven complete against the chain's dense log (access-log.ts): an event the node
   * leaves out, adds or changes is refused, and a first page starts at the newest proven
   * event. Every event carries `provenAt`. Throws ClientError.
   */
  async accessLogPage(patient: string, page: PageRequest = {}): Promise<AccessLogPage> {
    const reader = this.verified('showing the access log');
    const answer = objectAt(await this.get(`/v1/patients/${enc(patient)}/access-log${pageQuery(page)}`, { auth: true }), 'answer');
    const [emergency, events] = await Promise.all([
      provenAccessLogPage(reader, patient, 'emergency', undefined, {
        events: arrayAt(answer, 'emergency', 'answer') as AccessEvent[],
        next: nextAt(answer, 'answer', 'emergencyNext'),
        count: answer.emergencyCount,
      }),
      provenAccessLogPage(reader, patient, 'all', page.cursor, {
        events: arrayAt(answer, 'events', 'answer') as AccessEvent[],
        next: nextAt(answer, 'answer'),
        count: answer.count,
      }),
    ]);
    return { emergency: emergency.events, emergencyNext: emergency.next, events: events.events, next: events.next };
  }

  /** `GET /v1/patients/:id/access-log/emergency`: one page of the emergency reads alone, newest first, proven complete. Throws ClientError. */
  async emergencyAccessPage(patient: string, page: PageRequest = {}): Promise<Page<AccessEvent>> {
    const reader = this.verified('showing the access log');
    const path = `/v1/patients/${enc(patient)}/access-log/emergency${pageQuery(page)}`;
    const answer = objectAt(await this.get(path, { auth: true }), 'answer');
    const proven = await provenAccessLogPage(reader, patient, 'emergency', page.cursor, {
      events: arrayAt(answer, 'events', 'answer') as AccessEvent[],
      next: nextAt(answer, 'answer'),
      count: answer.count,
    });
    return { items: proven.events, next: proven.next };
  }

  /** The whole access log of `patient`, newest first, following the pages, each proven. Throws ClientError. */
  async accessLog(patient: string): Promise<AccessEvent[]> {
    return allItems(async (cursor) => {
      const page = await this.accessLogPage(patient, { cursor, limit: 500 });
      return { items: page.events, next: page.next };
    });
  }

  /** Every emergency read of `patient`, newest first, following the pages, each proven. Throws ClientError. */
  async emergencyAccesses(patient: string): Promise<AccessEvent[]> {
    return allItems((cursor) => this.emergencyAccessPage(patient, { cursor, limit: 500 }));
  }

  // Wrap the data key of each record for `to`: read it as the patient (or delegate), which
  // the node logs as a patient-request read, and upload the new envelope objects.
  private async wrapExisting(records: RecordMeta[], to: string): Promise<RecordEnvelope[]> {
    if (records.length === 0) return [];
    const { encryptionKey } = (await provenIdentity(this.verified('sharing records'), to)).value;
    const out: RecordEnvelope[] = [];
    for (const meta of records) {
      if (meta.status === 'erased') continue;
      let answer: RecordReadAnswer;
      try {
        answer = await this.fetchRecord(meta.record, 'patient-request');
      } catch (err) {
        if (hasClientCode(err, 'RECORD_ERASED')) continue;
        throw err;
      }
      const dataKey = this.openAnswerKey(answer);
      try {
        const sealed = sealDataKey(dataKey, meta.record, to, encryptionKey);
        out.push({ record: meta.record, hash: await this.putObject(sealed.object) });
      } finally {
        dataKey.fill(0);
      }
    }
    return out;
  }

  // Envelopes past the first 500 go into record.share transactions of 500 each.
  private async shareRest(rest: RecordEnvelope[], to: string): Promise<string[]> {
    const submitted: SubmittedTx[] = [];
    for (let i = 0; i < rest.length; i += MAX_SHARE_ENVELOPES) {
      const chunk = rest.slice(i, i + MAX_SHARE_ENVELOPES).map((e) => ({ ...e, to }));
      submitted.push(await this.submit('record.share', recordShareBody(chunk)));
    }
    await Promise.all(submitted.map((s) => this.waitForTx(s.hash)));
    return submitted.map((s) => s.hash);
  }

  /**
   * Grant `grantee` access to a patient's records (default: this client's own). With
   * `shareExisting` (default true) the keys of already-written records the scope covers are
   * wrapped for the grantee and named in the grant (overflow in record.share). Throws
   * ClientError (`INVALID_ARGUMENT` for an empty scope, or the chain's rejection code).
   */
  async grant(opts: {
    patient?: string;
    grantee: string;
    categories?: string[];
    resourceTypes?: string[];
    records?: string[];
    access?: Access;
    purpose: Purpose;
    expiresAt?: number;
    shareExisting?: boolean;
  }): Promise<GrantResult> {
    this.verified('granting access');
    const patient = opts.patient ?? this.id;
    const scope: GrantScope = { categories: opts.categories, resourceTypes: opts.resourceTypes, records: opts.records };
    // Build once first: an invalid grant fails before any record is read or uploaded.
    const base = { patient, grantee: opts.grantee, scope, access: opts.access, purpose: opts.purpose, expiresAt: opts.expiresAt };
    consentGrantBody(base);
    let envelopes: RecordEnvelope[] = [];
    if (opts.shareExisting !== false) {
      const covered = (await this.listRecords(patient)).filter((r) => scopeCoversRecord(scope, r));
      envelopes = await this.wrapExisting(covered, opts.grantee);
    }
    const first = envelopes.slice(0, MAX_SHARE_ENVELOPES);
    const body = consentGrantBody({ ...base, envelopes: first.length > 0 ? first : undefined });
    const done = await this.submitAndWait('consent.grant', body);
    const shareTxHashes = await this.shareRest(envelopes.slice(MAX_SHARE_ENVELOPES), opts.grantee);
    return { grantId: grantIdOf(done.tx), txHash: done.hash, shareTxHashes };
  }

  /** Revoke a grant (`consent.revoke`) and wait. Throws ClientError. */
  async revoke(grantId: string): Promise<CommittedTx> {
    return this.submitAndWait('consent.revoke', consentRevokeBody(grantId));
  }

  /**
   * Invite `delegate` to be this patient's delegate (`delegate.set`) and wait. The delegation
   * takes effect only once the delegate accepts (`acceptDelegation`); then share existing
   * records with them (`shareWithDelegate`). Throws ClientError (`DELEGATE_PENDING`,
   * `DELEGATE_EXISTS` …).
   */
  async setDelegate(delegate: string): Promise<CommittedTx> {
    return this.submitAndWait('delegate.set', delegateSetBody(delegate));
  }

  /** Accept `patient`'s invitation to be their delegate (`delegate.accept`, signed by this delegate) and wait. Throws ClientError. */
  async acceptDelegation(patient: string): Promise<CommittedTx> {
    return this.submitAndWait('delegate.accept', delegateAcceptBody(patient));
  }

  /**
   * Seal the key of every record of `patient` (default: this client's own) that `delegate`
   * has no envelope for yet, once the delegate has accepted, in record.share transactions of
   * at most 500. The chain refuses envelopes to a delegate who has not accepted
   * (RECIPIENT_NOT_ALLOWED). Returns the share transactions. Throws ClientError.
   */
  async shareWithDelegate(delegate: string, patient: string = this.id): Promise<{ shared: number; shareTxHashes: string[] }> {
    const missing = (await this.listRecords(patient)).filter(
      (r) => r.status !== 'erased' && (r.envelopes as Record<string, string> | undefined)?.[delegate] === undefined,
    );
    const envelopes = await this.wrapExisting(missing, delegate);
    return { shared: envelopes.length, shareTxHashes: await this.shareRest(envelopes, delegate) };
  }

  /**
   * `GET /v1/patients/:id/delegates`: the patient's delegations, pending and accepted (the
   * patient and accepted delegates see all; an invited delegate sees their own). Follows
   * every page. Throws ClientError.
   */
  async delegates(patient: string): Promise<Delegation[]> {
    const reader = this.verified('showing delegations');
    for (let attempt = 1; ; attempt++) {
      const listed = await this.allPages(`/v1/patients/${enc(patient)}/delegates`, 'delegates');
      const stranger = listed.find((d) => d.patient !== patient);
      if (stranger !== undefined) refuse('FACT_NOT_PROVEN', `the node lists a delegation by ${stranger.patient} among ${patient}'s`);
      const proven = (await provenDelegations(reader, listed)).value;
      // The patient and their accepted delegates may read the delegate index; an invited
      // delegate is shown only their own invitation, so there is no list to prove complete.
      const manages = patient === this.id || proven.some((d) => d.delegate === this.id && d.status === 'accepted');
      const missing = manages ? await delegatesLeftOut(reader, patient, proven) : [];
      if (missing.length === 0) return proven;
      if (attempt === 2)
        refuse('FACT_NOT_PROVEN', `the node left ${missing[0]} out of ${patient}'s delegates, which the chain holds as accepted`);
    }
  }

  /** `GET /v1/me/delegations`: the patients who named this identity as delegate, pending or accepted. Follows every page. Throws ClientError. */
  async myDelegations(): Promise<Delegation[]> {
    const reader = this.verified('showing delegations');
    return (await provenDelegations(reader, await this.allPages('/v1/me/delegations', 'delegates'))).value;
  }

  private async allPages(path: string, field: string): Promise<Delegation[]> {
    return allItems(async (cursor) => {
      const sep = path.includes('?') ? '&' : '?';
      const answer = objectAt(await this.get(cursor === undefined ? path : `${path}${sep}cursor=${enc(cursor)}`, { auth: true }), 'answer');
      return { items: arrayAt(answer, field, 'answer').map(parseDelegation), next: nextAt(answer, 'answer') };
    });
  }

  /** End a delegation (`delegate.remove`, by the patient, or the delegate stepping down or declining) and wait. Throws ClientError. */
  async removeDelegate(patient: string, delegate: string): Promise<CommittedTx> {
    return this.submitAndWait('delegate.remove', delegateRemoveBody(patient, delegate));
  }
}
