// Emergency ("break-glass") access on the client (docs/emergency.md): split a patient's
// emergency key among the validators, open a window as a privileged clinician and rebuild the
// key from the shares the validators post, list windows, and rotate the key afterwards.
import {
  type EncryptionKeyPair,
  type Envelope,
  fromHex,
  generateEncryptionKeyPair,
  type Share,
  sealToPublicKey,
  shareCommitment,
  splitSecret,
  toHex,
  utf8,
} from '@medledger/crypto';
import { txHash } from './canonical.js';
import type { NodeConnection, SubmittedTx } from './connection.js';
import { openEmergencyReason, type SealedReason, sealEmergencyReason } from './emergency-reason.js';
import { type RecoveredEmergencyKey, recoverBadCount, recoverEmergencyKey } from './emergency-recover.js';
import { ClientError } from './errors.js';
import { allItems, eachItem, nextAt, type Page, type PageRequest, pageQuery } from './paging.js';
import { type ProvenIdentity, provenEmergencyWindows, provenIdentities, provenIdentity, stateKeys } from './proven-facts.js';
import { EMERGENCY_RECIPIENT, openDataKey, sealDataKey } from './record-crypto.js';
import { provenOwnRecordsPage } from './record-list.js';
import { arrayAt, objectAt, parseRecordRead, type RecordMeta } from './responses.js';
import { refuse } from './trust.js';
import { MAX_SHARE_ENVELOPES } from './tx-builders.js';
import { VerifiedReader } from './verified-reader.js';

/**
 * The organization kinds whose clinicians may hold the emergency privilege: care
 * organizations (the ledger's `isCareOrganization`: hospitals, clinics and labs). An insurer,
 * pharmacy, manufacturer, distributor or regulator may have clinician staff, but the ledger
 * refuses them the privilege, so apps should not offer it.
 */
export const CARE_ORGANIZATION_KINDS: readonly string[] = ['hospital', 'clinic', 'lab'];

/** May clinicians of an organization of `orgKind` be given emergency access? */
export function isCareOrganizationKind(orgKind: unknown): boolean {
  return typeof orgKind === 'string' && CARE_ORGANIZATION_KINDS.includes(orgKind);
}

/** A share as the patient registers it: for one validator, sealed to its encryption key. */
export interface EmergencyShareBody {
  validator: string;
  x: number;
  commitment: string;
  sealed: Envelope;
}
export interface EmergencySplitBody {
  emergencyKey: string;
  threshold: number;
  shares: EmergencyShareBody[];
}
export interface EmergencyRewrapBody {
  envelopes: Array<{ record: string; hash: string; old: string }>;
}
export interface EmergencyPrivilegeBody {
  clinician: string;
  grant: boolean;
}
export interface EmergencyAccessBody {
  patient: string;
  /** The stated reason, encrypted on this device (`sealEmergencyReason`). */
  reason: SealedReason;
  durationMs: number;
}
/** `emergency.close`: end an open window now (the patient, their delegate, or its clinician). */
export interface EmergencyCloseBody {
  window: string;
}

declare module './tx-builders.js' {
  interface TxBodies {
    'emergency.split': EmergencySplitBody;
    'emergency.rewrap': EmergencyRewrapBody;
    'emergency.privilege': EmergencyPrivilegeBody;
    'emergency.access': EmergencyAccessBody;
    'emergency.close': EmergencyCloseBody;
  }
}

/** `GET /v1/emergency/params`: the validators holding shares, the threshold and the longest window. */
export interface EmergencyNetwork {
  threshold: number;
  maxDurationMs: number;
  validators: Array<{ id: string; name: string | null; encryptionKey: string }>;
}

/** A posted share as the node returns it to the window's clinician. */
export interface PostedShare {
  window: string;
  validator: string;
  x: number;
  sealed: Envelope;
  at: { height: number; time: number };
}

/**
 * An emergency window as the node shows it (docs/emergency.md), with its reason opened for
 * this client: `reason` is the text, or null when it was not sealed to this identity (a
 * delegate, or a privacy officer registered after the window opened); `sealedReason` is what
 * the chain holds.
 */
export interface EmergencyWindow {
  id: string;
  patient: string;
  clinician: string;
  org: string;
  reason: string | null;
  sealedReason: SealedReason;
  durationMs: number;
  openedAt: { height: number; time: number };
  expiresAt: number;
  emergencyKey: string;
  threshold: number;
  /** Per holder: the share's commitment, or on a re-shared split one commitment per dealer (`parts`). */
  commitments: Array<{ validator: string; x: number; commitment?: string; parts?: string[] }>;
  /** On a re-shared split: the dealers' x; each posted share is then one sub-share per dealer. */
  dealers?: number[];
  active: boolean;
  status: 'pending' | 'ready' | 'closed';
  sharesPosted: number;
  shares?: PostedShare[];
  accesses?: Array<Record<string, unknown>>;
  [field: string]: unknown;
}

// The AAD binds each sealed share to who it is for; it must match the rules in
// @medledger/ehr (emergency.ts), which the client may not import.
const registeredShareAad = (patient: string, validator: string, emergencyKey: string) =>
  utf8(`medledger/emergency-share/v1\n${patient}\n${validator}\n${emergencyKey}`);

const enc = encodeURIComponent;

/** `GET /v1/emergency/params`: the node's word, for display only; never sealed to. Throws ClientError. */
export async function emergencyNetwork(conn: NodeConnection): Promise<EmergencyNetwork> {
  const answer = objectAt(await conn.get('/v1/emergency/params'), 'answer');
  if (typeof answer.threshold !== 'number' || !Array.isArray(answer.validators))
    throw new ClientError('MALFORMED_RESPONSE', 'emergency params must have threshold and validators');
  return answer as unknown as EmergencyNetwork;
}

/**
 * The validators an emergency key is split among, and their encryption keys: the trusted
 * genesis set, or once governance changed it the latest set decided, proven against the
 * validators followed from genesis (`emergency.split` must name exactly the current set, in
 * set order). The node's `GET /v1/emergency/params` is fetched too and must say the same, so a
 * node that lies about the validators' keys is caught, not just ignored. Throws ClientError
 * `NO_TRUSTED_GENESIS` (client made without one) or `GENESIS_MISMATCH`.
 */
export async function trustedEmergencyNetwork(conn: NodeConnection): Promise<EmergencyNetwork> {
  const trusted = conn.verified('sealing emergency shares').trusted;
  const told = await emergencyNetwork(conn);
  // After governance changed the validator set, shares go to the latest set decided, proven
  // against a header the trusted validators signed (docs/emergency.md). The key is public, so
  // it is proven without a session: a patient registering has no identity to sign in with yet.
  const reader = new VerifiedReader(
    trusted,
    { post: (path, body) => conn.post(path, body), get: (path) => conn.get(path) },
    { minHeight: conn.verifiedHeight },
  );
  const latest = await latestValidatorSet(reader);
  const validators =
    latest === null ? trusted.validators.map((v) => ({ id: v.id, name: v.name, encryptionKey: v.encryptionKey })) : provenHolders(latest);
  const network: EmergencyNetwork = {
    threshold: Math.floor((2 * validators.length) / 3) + 1,
    // The cap on window length is the chain's to enforce; it is not sealed to, so shown as told.
    maxDurationMs: told.maxDurationMs,
    validators,
  };
  const same =
    told.threshold === network.threshold &&
    told.validators.length === network.validators.length &&
    told.validators.every((v, i) => v?.id === network.validators[i]?.id && v?.encryptionKey === network.validators[i]?.encryptionKey);
  if (!same)
    refuse('GENESIS_MISMATCH', "the node's emergency validator set or keys are not the proven current validators; no share was sealed");
  return network;
}

// The proven `gov/valset-latest` entry (null: governance never changed the set). Before the
// first block there is nothing to prove against and no vote can have passed: the genesis set
// holds. A node that lies "no block yet" gains nothing by it: the chain accepts shares only for
// the current validators, and genesis keys belong to those same validators.
async function latestValidatorSet(reader: VerifiedReader): Promise<string | null> {
  try {
    return (await reader.read([stateKeys.validatorSetLatest()])).value(stateKeys.validatorSetLatest());
  } catch (err) {
    if (err instanceof ClientError && err.code === 'NO_COMMITTED_BLOCK') return null;
    throw err;
  }
}

// The holders in a proven `gov/valset-latest` entry, in set order.
function provenHolders(raw: string): EmergencyNetwork['validators'] {
  const change = JSON.parse(raw) as { validators?: Array<{ id?: unknown; name?: unknown; encryptionKey?: unknown }> };
  if (!Array.isArray(change.validators) || change.validators.length === 0)
    refuse('FACT_NOT_PROVEN', 'the proven validator set is empty or malformed; no share was sealed');
  return change.validators.map((v) => {
    if (typeof v.id !== 'string' || typeof v.encryptionKey !== 'string')
      refuse('FACT_NOT_PROVEN', 'the proven validator set names a validator without id or encryption key');
    return { id: v.id, name: typeof v.name === 'string' ? v.name : null, encryptionKey: v.encryptionKey };
  });
}

/**
 * Split an emergency private key among the validators (Shamir over GF(256), threshold more
 * than 2/3 of them) and seal each share to its validator, with a commitment to each share.
 * A single validator holds the whole key (threshold 1). Does not keep the key.
 */
export function buildEmergencySplit(patient: string, emergencyKey: EncryptionKeyPair, network: EmergencyNetwork): EmergencySplitBody {
  const n = network.validators.length;
  const secret = fromHex(emergencyKey.privateKey, 'emergency private key', 32);
  try {
    const shares: Share[] = network.threshold === 1 && n === 1 ? [{ x: 1, y: toHex(secret) }] : splitSecret(secret, n, network.threshold);
    return {
      emergencyKey: emergencyKey.publicKey,
      threshold: network.threshold,
      shares: shares.map((share, i) => {
        const v = network.validators[i] as EmergencyNetwork['validators'][number];
        const y = fromHex(share.y);
        try {
          return {
            validator: v.id,
            x: share.x,
            commitment: shareCommitment(share),
            sealed: sealToPublicKey(v.encryptionKey, y, registeredShareAad(patient, v.id, emergencyKey.publicKey)),
          };
        } finally {
          y.fill(0);
        }
      }),
    };
  } finally {
    secret.fill(0);
  }
}

/** Register a fresh split of `emergencyKey` for this patient (`emergency.split`), without waiting. */
export async function submitEmergencySplit(conn: NodeConnection, emergencyKey: EncryptionKeyPair): Promise<SubmittedTx> {
  return conn.submit('emergency.split', buildEmergencySplit(conn.id, emergencyKey, await trustedEmergencyNetwork(conn)));
}

/** A window from the node with its sealed reason opened by `conn`'s keys (see EmergencyWindow). */
function withOpenedReason(conn: NodeConnection, raw: unknown): EmergencyWindow {
  const w = objectAt(raw, 'window') as unknown as EmergencyWindow;
  const sealedReason = (w as { reason: unknown }).reason as SealedReason;
  const reason = openEmergencyReason(
    { patient: w.patient, clinician: w.clinician, reason: sealedReason },
    conn.id,
    conn.keys.encryption.privateKey,
  );
  return { ...w, reason: reason ?? null, sealedReason };
}

/**
 * Windows as the node listed them, each checked against its committed entry (the sealed reason
 * included) before its reason is opened for this caller. Throws ClientError (a TrustErrorCode,
 * or `NO_TRUSTED_GENESIS`).
 */
async function provenWindows(conn: NodeConnection, raws: unknown[]): Promise<EmergencyWindow[]> {
  const windows = raws.map((w) => objectAt(w, 'window') as unknown as EmergencyWindow);
  const proven = await provenEmergencyWindows(conn.verified('showing emergency windows'), windows);
  return proven.map((w) => withOpenedReason(conn, w));
}

/** `GET /v1/emergency/windows/:id`, proven, its reason opened. Throws ClientError (`ACCESS_DENIED`, 403, a TrustErrorCode). */
export async function emergencyWindow(conn: NodeConnection, id: string): Promise<EmergencyWindow> {
  return (await provenWindows(conn, [await conn.get(`/v1/emergency/windows/${enc(id)}`, { auth: true })]))[0] as EmergencyWindow;
}

/**
 * Who a reason is sealed to: the patient, this clinician, the organization and its privacy
 * officers (their keys from the node, as for every recipient of a record). Throws ClientError.
 */
async function reasonRecipients(conn: NodeConnection, patient: string): Promise<Array<{ id: string; encryptionKey: string }>> {
  // Every key the reason is sealed to is proven (identity/<id>), never taken from the node.
  const reader = conn.verified('sealing an emergency reason');
  const me = (await provenIdentity(reader, conn.id)).value;
  if (typeof me.org !== 'string') throw new ClientError('UNAUTHORIZED', 'only a clinician of an organization opens an emergency window');
  const reviewers = objectAt(await conn.get(`/v1/orgs/${enc(me.org)}/reviewers`, { auth: true }), 'reviewers');
  const officers = arrayAt(reviewers, 'privacyOfficers', 'reviewers') as Array<{ id: string; encryptionKey: string }>;
  const proven = await provenIdentities(reader, [patient, me.org, ...officers.map((o) => o.id)]);
  const p = proven.value.get(patient);
  if (p?.role !== 'patient') refuse('FACT_NOT_PROVEN', `${patient} is not a proven active patient`);
  const org = proven.value.get(me.org) as ProvenIdentity;
  for (const o of officers) {
    const officer = proven.value.get(o.id);
    if (officer?.role !== 'privacy-officer' || officer.org !== me.org || officer.encryptionKey !== o.encryptionKey)
      refuse('FACT_NOT_PROVEN', `the node names ${o.id} as a privacy officer of ${me.org} with a key the proven state does not hold`);
  }
  return [
    { id: p.id, encryptionKey: p.encryptionKey },
    { id: conn.id, encryptionKey: conn.keys.encryption.publicKey },
    { id: org.id, encryptionKey: org.encryptionKey },
    ...officers.map((o) => ({ id: o.id, encryptionKey: (proven.value.get(o.id) as ProvenIdentity).encryptionKey })),
  ];
}

/**
 * Poll a window until enough good shares are posted to rebuild the key. Throws ClientError
 * `WINDOW_CLOSED` if the window ends first, or `EMERGENCY_PENDING` after `timeoutMs` (too
 * few validators answered: some are down, refuse, or posted wrong shares).
 */
export async function awaitEmergencyKey(
  conn: NodeConnection,
  windowId: string,
  opts: { timeoutMs?: number; pollIntervalMs?: number; onProgress?: (w: EmergencyWindow) => void } = {},
): Promise<RecoveredEmergencyKey> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  conn.verified('rebuilding an emergency key');
  for (;;) {
    const window = await emergencyWindow(conn, windowId);
    opts.onProgress?.(window);
    const recovered = recoverEmergencyKey(window, conn.keys.encryption.privateKey);
    if (recovered !== undefined) return recovered;
    if (!window.active) throw new ClientError('WINDOW_CLOSED', `emergency window ${windowId} closed before enough shares were posted`);
    if (Date.now() >= deadline) {
      const bad = recoverBadCount(window, conn.keys.encryption.privateKey);
      throw new ClientError(
        'EMERGENCY_PENDING',
        `emergency window ${windowId}: ${window.sharesPosted} of ${window.commitments.length} validators posted shares (${bad} wrong), ${window.threshold} good ones are needed; the request stays pending`,
      );
    }
    await new Promise((r) => setTimeout(r, opts.pollIntervalMs ?? 250));
  }
}

/** The id of the window an `emergency.access` transaction opens: the first 16 bytes of its hash. */
export function windowIdOf(tx: SubmittedTx['tx']): string {
  return txHash(tx).slice(0, 32);
}

/**
 * As a privileged clinician, open an emergency window on `patient` (`emergency.access`), wait
 * for it to commit, then for the validators' shares, and rebuild the key. Throws ClientError
 * (`INVALID_ARGUMENT` without a reason or over 500 characters, `UNAUTHORIZED` without the privilege, `INVALID_BODY` over the cap,
 * `NOT_FOUND` for an unknown patient, `WINDOW_ACTIVE`, `EMERGENCY_PENDING`, `WINDOW_CLOSED`).
 */
export async function openEmergency(
  conn: NodeConnection,
  opts: { patient: string; reason: string; durationMs: number; timeoutMs?: number; onProgress?: (w: EmergencyWindow) => void },
): Promise<RecoveredEmergencyKey & { windowId: string; txHash: string }> {
  // The reason is encrypted here, to proven keys only: the chain and every block reader see ciphertext.
  const reason = sealEmergencyReason(
    opts.reason,
    { patient: opts.patient, clinician: conn.id },
    await reasonRecipients(conn, opts.patient),
  );
  const done = await conn.submitAndWait('emergency.access', { patient: opts.patient, reason, durationMs: opts.durationMs });
  const windowId = windowIdOf(done.tx);
  const recovered = await awaitEmergencyKey(conn, windowId, { timeoutMs: opts.timeoutMs, onProgress: opts.onProgress });
  return { ...recovered, windowId, txHash: done.hash };
}

/** The caller's active window on `patient`, from `GET /v1/me/emergency` (newest first, page by page), if any, checked against proven state. */
export async function activeEmergencyWindowOn(conn: NodeConnection, patient: string): Promise<EmergencyWindow | undefined> {
  for await (const w of eachItem((cursor) => windowsPage(conn, '/v1/me/emergency', { cursor }))) {
    if (w.patient === patient && w.active) return w;
  }
  return undefined;
}

/**
 * One page of emergency windows from a list route (`/v1/me/emergency`, `/v1/orgs/:id/emergency`,
 * `/v1/patients/:id/emergency`), each checked against proven state before its reason is opened.
 */
export async function windowsPage(
  conn: NodeConnection,
  path: string,
  page: PageRequest = {},
): Promise<Page<EmergencyWindow> & { answer: Record<string, unknown> }> {
  const answer = objectAt(await conn.get(`${path}${pageQuery(page)}`, { auth: true }), 'answer');
  const items = await provenWindows(conn, arrayAt(answer, 'windows', 'answer'));
  return { items, next: nextAt(answer, 'answer'), answer };
}

/** Grant (or with `revoke`, take back) a clinician's emergency privilege, as their organization. */
export async function setEmergencyPrivilege(conn: NodeConnection, clinician: string, revoke = false) {
  return conn.submitAndWait('emergency.privilege', { clinician, grant: !revoke });
}

/**
 * End an emergency window now (`emergency.close`, docs/emergency.md "Ending a window early"):
 * the patient, their delegate or the window's clinician. From the committed block on, no node
 * serves a record through it. Throws ClientError (`WINDOW_CLOSED`, `UNAUTHORIZED`, `NOT_FOUND`).
 */
export async function closeEmergencyWindow(conn: NodeConnection, windowId: string) {
  if (!/^[0-9a-f]{32}$/.test(windowId)) throw new ClientError('INVALID_ARGUMENT', 'windowId must be 16-byte hex');
  return conn.submitAndWait('emergency.close', { window: windowId });
}

/** What `emergency list` shows, by the caller's role. */
export type EmergencyListing =
  | {
      as: 'patient';
      emergencyKey: string | null;
      rotationRecommended: boolean;
      split: unknown;
      windows: EmergencyWindow[];
    }
  | { as: 'organization'; org: string; windows: EmergencyWindow[] }
  | { as: 'clinician'; privilege: unknown; windows: EmergencyWindow[] };

/**
 * Emergency windows for the caller: a patient (or `patient` for a delegate) sees the notices
 * about them with every emergency read; a privacy officer or organization admin sees its
 * staff's windows; a clinician sees its own. Each window is checked against proven state
 * (the caller's role against its proven identity). Throws ClientError.
 */
export async function listEmergency(conn: NodeConnection, opts: { patient?: string } = {}): Promise<EmergencyListing> {
  const me = (await provenIdentity(conn.verified('showing emergency windows'), conn.id)).value;
  // Every window, newest first: the first page's answer carries the list's other fields.
  const every = async (path: string) => {
    let answer: Record<string, unknown> = {};
    const windows = await allItems(async (cursor) => {
      const page = await windowsPage(conn, path, { cursor });
      if (cursor === undefined) answer = page.answer;
      return page;
    });
    return { answer, windows };
  };
  if (opts.patient !== undefined || me.role === 'patient') {
    const patient = opts.patient ?? conn.id;
    const { answer: a, windows } = await every(`/v1/patients/${enc(patient)}/emergency`);
    return {
      as: 'patient',
      emergencyKey: (a.emergencyKey as string | null) ?? null,
      rotationRecommended: a.rotationRecommended === true,
      split: a.split,
      windows,
    };
  }
  const org = me.role === 'privacy-officer' ? (me.org as string | undefined) : me.orgKind !== undefined ? me.id : undefined;
  if (org !== undefined) return { as: 'organization', org, windows: (await every(`/v1/orgs/${enc(org)}/emergency`)).windows };
  const { answer: a, windows } = await every('/v1/me/emergency');
  return { as: 'clinician', privilege: a.privilege ?? null, windows };
}

/**
 * Rotate this patient's emergency key: a fresh key pair, split and registered again
 * (`emergency.split`), then every record's data key wrapped to the new key and the old
 * envelope replaced (`emergency.rewrap`, 500 a transaction), which makes every node delete
 * the old envelopes. The patient opens each data key with their own envelope (reads logged as
 * patient-request). Throws ClientError (`WINDOW_ACTIVE` while a window is open).
 */
export async function rotateEmergencyKey(
  conn: NodeConnection,
  putObject: (object: Uint8Array) => Promise<string>,
): Promise<{ emergencyKey: string; txHash: string; rewrapped: number; rewrapTxHashes: string[] }> {
  const fresh = generateEncryptionKeyPair();
  const split = await conn.submitAndWait('emergency.split', buildEmergencySplit(conn.id, fresh, await trustedEmergencyNetwork(conn)));
  // Every record, page by page: a key left unrewrapped would stay open to the old key's
  // holders, so the list is proven complete and each anchor (its status and envelopes) proven.
  const reader = conn.verified('rotating the emergency key');
  const listed = await allItems(async (cursor) =>
    provenOwnRecordsPage(
      reader,
      conn.id,
      cursor,
      await conn.get(`/v1/patients/${enc(conn.id)}/records${pageQuery({ cursor })}`, { auth: true }),
    ),
  );
  const items: EmergencyRewrapBody['envelopes'] = [];
  for (const meta of listed as RecordMeta[]) {
    const old = (meta.envelopes as Record<string, string> | undefined)?.[EMERGENCY_RECIPIENT];
    if (meta.status === 'erased' || old === undefined) continue;
    const answer = parseRecordRead(await conn.get(`/v1/records/${enc(meta.record)}?purpose=patient-request`, { auth: true }));
    const dataKey = openDataKey(answer.envelope, meta.record, answer.envelopeFor ?? conn.id, conn.keys.encryption.privateKey);
    try {
      const sealed = sealDataKey(dataKey, meta.record, EMERGENCY_RECIPIENT, fresh.publicKey);
      items.push({ record: meta.record, hash: await putObject(sealed.object), old });
    } finally {
      dataKey.fill(0);
    }
  }
  const submitted: SubmittedTx[] = [];
  for (let i = 0; i < items.length; i += MAX_SHARE_ENVELOPES)
    submitted.push(await conn.submit('emergency.rewrap', { envelopes: items.slice(i, i + MAX_SHARE_ENVELOPES) }));
  await Promise.all(submitted.map((s) => conn.waitForTx(s.hash)));
  return { emergencyKey: fresh.publicKey, txHash: split.hash, rewrapped: items.length, rewrapTxHashes: submitted.map((s) => s.hash) };
}
