// The vault (docs/records.md): where this node keeps ciphertext objects and key envelopes
// off chain, addressed by SHA-256 and re-hashed every time they are read or served.
import { KEY_ENVELOPE_BYTES, sha256Hex, validateEnvelope } from '@medledger/crypto';
import type { NamedObjects } from '@medledger/ehr';
import type { NodeStore } from '@medledger/storage';
import { ApiError } from './errors.js';
import { isObjectHash, parseVaultGet, type VaultLog, type VaultPeers, VaultSync, vaultDataMessage } from './vault-sync.js';

export type { VaultPeers } from './vault-sync.js';

export const DEFAULT_FETCH_TIMEOUT_MS = 2_000;
const EXPIRE_INTERVAL_MS = 60_000;

export interface VaultOptions {
  /** Largest object accepted from a client or a peer (bytes). */
  maxObjectBytes: number;
  /** How long an uploaded object may wait for its anchor to commit before it is deleted (ms). */
  unanchoredTtlMs: number;
  /** How long one peer has to answer one fetch (ms; default 2000). */
  fetchTimeoutMs?: number;
  /** Per-identity quotas on this node (docs/records.md "Vault ownership and quotas"); defaults DEFAULT_VAULT_QUOTAS. */
  quotas?: Partial<VaultQuotas>;
}

/** What one identity may hold in this node's vault. */
export interface VaultQuotas {
  /** Bytes of uploads not yet named by a committed anchor. */
  pendingBytesPerIdentity: number;
  /** Number of uploads not yet named by a committed anchor (tiny objects cost a row each). */
  pendingObjectsPerIdentity: number;
  /** Bytes of this identity's uploads that committed anchors name (kept until erased). */
  anchoredBytesPerIdentity: number;
}

/**
 * 32 MiB pending (eight largest objects), 50,000 pending objects (a 5,000-entry FHIR Bundle
 * with its envelopes), 2 GiB anchored per identity per node.
 */
export const DEFAULT_VAULT_QUOTAS: VaultQuotas = {
  pendingBytesPerIdentity: 32 * 1024 * 1024,
  pendingObjectsPerIdentity: 50_000,
  anchoredBytesPerIdentity: 2 * 1024 * 1024 * 1024,
};

export interface VaultDeps {
  store: NodeStore;
  now: () => number;
  log: VaultLog;
  peers: VaultPeers;
  /** Quotas the chain's governance set; each replaces this node's configured quota while set (docs/governance.md). */
  chainQuotas?: () => Partial<VaultQuotas>;
  /** The size committed state says an object has; fetched copies of another size are not kept. */
  sizeOnChain?: (hash: string) => number | undefined;
}

function positiveInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${what} must be a positive integer, got ${value}`);
  return value;
}

function checkHash(hash: string): string {
  if (!isObjectHash(hash)) throw new ApiError('INVALID_PARAM', 'hash must be a SHA-256 as 64 lowercase hex characters');
  return hash;
}

export class Vault {
  /** Largest object accepted, bytes (config `vault.maxObjectBytes`). */
  readonly maxObjectBytes: number;
  private readonly unanchoredTtlMs: number;
  private readonly quotas: VaultQuotas;
  private readonly sync: VaultSync;
  private expireTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  /** Throws RangeError when an option is not a positive integer. */
  constructor(
    opts: VaultOptions,
    private readonly deps: VaultDeps,
  ) {
    this.maxObjectBytes = positiveInteger(opts.maxObjectBytes, 'vault.maxObjectBytes');
    this.unanchoredTtlMs = positiveInteger(opts.unanchoredTtlMs, 'vault.unanchoredTtlMs');
    const fetchTimeoutMs = positiveInteger(opts.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS, 'vault.fetchTimeoutMs');
    const quotas = { ...DEFAULT_VAULT_QUOTAS, ...opts.quotas };
    this.quotas = {
      pendingBytesPerIdentity: positiveInteger(quotas.pendingBytesPerIdentity, 'vault.quotas.pendingBytesPerIdentity'),
      pendingObjectsPerIdentity: positiveInteger(quotas.pendingObjectsPerIdentity, 'vault.quotas.pendingObjectsPerIdentity'),
      anchoredBytesPerIdentity: positiveInteger(quotas.anchoredBytesPerIdentity, 'vault.quotas.anchoredBytesPerIdentity'),
    };
    this.sync = new VaultSync({ maxObjectBytes: this.maxObjectBytes, fetchTimeoutMs }, deps);
  }

  /** Fetch wanted objects in the background and expire unanchored uploads every minute. */
  start(): void {
    if (this.stopped || this.expireTimer !== undefined) return;
    this.sync.start();
    this.expireTimer = setInterval(() => {
      try {
        this.expireUnanchored();
      } catch (err) {
        this.deps.log('error', `vault expiry failed: ${(err as Error).message}`);
      }
    }, EXPIRE_INTERVAL_MS);
  }

  /** Stop the timers and give up on pending fetches; call before the store closes. */
  stop(): void {
    this.stopped = true;
    if (this.expireTimer !== undefined) clearInterval(this.expireTimer);
    this.expireTimer = undefined;
    this.sync.stop();
  }

  /**
   * Store an upload by identity `uploader`, who alone may then name it in a transaction
   * (`checkNamed`). Throws ApiError INVALID_PARAM (malformed hash), OBJECT_TOO_LARGE (over
   * maxObjectBytes), HASH_MISMATCH (SHA-256 of `data` is not `hash`) or QUOTA_EXCEEDED (the
   * uploader's pending uploads would pass its quota), storing nothing. `created` is false
   * when a good copy was already held (its uploader stays the first one).
   */
  put(hash: string, data: Uint8Array, uploader: string): { created: boolean } {
    checkHash(hash);
    if (data.length > this.maxObjectBytes)
      throw new ApiError('OBJECT_TOO_LARGE', `object is ${data.length} bytes; this node accepts at most ${this.maxObjectBytes}`);
    if (sha256Hex(data) !== hash) throw new ApiError('HASH_MISMATCH', 'the SHA-256 of the body is not the hash in the path');
    const { store } = this.deps;
    const info = store.vaultObjectInfo(hash);
    if (info === undefined) {
      this.checkPendingQuota(uploader, data.length);
      store.putVaultObject(hash, data, this.deps.now(), uploader);
      this.sync.forget(hash);
      return { created: true };
    }
    // Already held: an upload of the right bytes is also the cheapest repair of a bad copy.
    const held = store.getVaultObject(hash);
    if (held !== undefined && sha256Hex(held) === hash) return { created: false };
    const wasAnchored = this.dropCorrupt(hash);
    store.putVaultObject(hash, data, this.deps.now(), info.uploader ?? undefined);
    if (wasAnchored) store.markVaultAnchored([hash]);
    this.sync.forget(hash);
    return { created: true };
  }

  /**
   * Admission of a transaction submitted to this node that names vault objects (docs/records.md
   * "Vault ownership and quotas"). The vault is off chain and differs per node, so this is a
   * node's check, not a ledger rule: the ledger's own rule is that an object belongs to one
   * record (OBJECT_IN_USE). Each object must be held here (OBJECT_NOT_HELD) and uploaded by
   * `signer` (OBJECT_NOT_OWNED), so nobody anchors another's pending upload first; the
   * ciphertext's size must be the declared one (SIZE_MISMATCH); an envelope must be a key
   * envelope of exactly KEY_ENVELOPE_BYTES (ENVELOPE_TOO_LARGE, NOT_AN_ENVELOPE); and the
   * signer's anchored bytes here must stay within its quota (QUOTA_EXCEEDED). Throws ApiError.
   */
  checkNamed(signer: string | undefined, named: NamedObjects): void {
    const { store } = this.deps;
    let adding = 0;
    const held = (hash: string) => {
      const info = store.vaultObjectInfo(hash);
      if (info === undefined)
        throw new ApiError('OBJECT_NOT_HELD', `object ${hash.slice(0, 16)}… is not held by this node: upload it here before naming it`);
      if (info.uploader === null || info.uploader !== signer)
        throw new ApiError('OBJECT_NOT_OWNED', `object ${hash.slice(0, 16)}… was not uploaded by the signer`);
      if (info.status === 'unanchored') adding += info.size;
      return info;
    };
    if (named.content !== undefined) {
      const { size } = held(named.content.hash);
      if (size !== named.content.size)
        throw new ApiError('SIZE_MISMATCH', `body.size is ${named.content.size} but the object is ${size} bytes`);
    }
    for (const hash of named.envelopes) {
      const { size } = held(hash);
      if (size > KEY_ENVELOPE_BYTES)
        throw new ApiError(
          'ENVELOPE_TOO_LARGE',
          `envelope ${hash.slice(0, 16)}… is ${size} bytes; a key envelope is ${KEY_ENVELOPE_BYTES}`,
        );
      if (!isKeyEnvelope(store.getVaultObject(hash)))
        throw new ApiError('NOT_AN_ENVELOPE', `object ${hash.slice(0, 16)}… named as an envelope is not a key envelope`);
    }
    if (signer === undefined || adding === 0) return;
    const { anchoredBytes } = store.vaultUsage(signer);
    const quota = this.quotasInForce().anchoredBytesPerIdentity;
    if (anchoredBytes + adding > quota)
      throw new ApiError(
        'QUOTA_EXCEEDED',
        `anchoring ${adding} more bytes would pass this node's quota of ${quota} anchored bytes per identity`,
      );
  }

  /** This node's configured quotas, with the ones governance set on chain in their place. */
  quotasInForce(): VaultQuotas {
    return { ...this.quotas, ...this.deps.chainQuotas?.() };
  }

  private checkPendingQuota(uploader: string, bytes: number): void {
    const usage = this.deps.store.vaultUsage(uploader);
    const q = this.quotasInForce();
    if (usage.pendingObjects + 1 > q.pendingObjectsPerIdentity || usage.pendingBytes + bytes > q.pendingBytesPerIdentity)
      throw new ApiError(
        'QUOTA_EXCEEDED',
        `this identity already has ${usage.pendingObjects} uploads (${usage.pendingBytes} bytes) waiting for an anchor; the quota is ${q.pendingObjectsPerIdentity} uploads and ${q.pendingBytesPerIdentity} bytes: anchor them, or wait until they expire`,
      );
  }

  /**
   * The object's bytes after re-hashing them. A copy that fails the check is logged,
   * deleted and, when anchored, fetched again from the peers at once, as is an anchored
   * object not held here. Undefined when the object is unknown, or no peer had a good copy
   * (it stays wanted, and the background loop keeps trying). Throws ApiError INVALID_PARAM
   * for a malformed hash.
   */
  async getVerified(hash: string): Promise<Uint8Array | undefined> {
    checkHash(hash);
    const { store } = this.deps;
    const data = store.getVaultObject(hash);
    if (data !== undefined) {
      if (sha256Hex(data) === hash) return data;
      if (!this.dropCorrupt(hash)) return undefined;
    } else if (store.vaultObjectStatus(hash) !== 'wanted') return undefined;
    if (this.stopped) return undefined;
    return this.sync.fetch(hash);
  }

  /**
   * After a block commits: objects its anchors name never expire, and those not held are
   * fetched; erased records' objects are deleted from disk and no longer wanted. A hash in
   * both lists (anchored and erased in one block) ends up erased.
   */
  onCommitted(anchored: string[], erased: string[]): void {
    const { store } = this.deps;
    const erasedSet = new Set(erased);
    const missing = store.markVaultAnchored(anchored.filter((h) => !erasedSet.has(h)));
    if (erased.length > 0) {
      const deleted = store.deleteVaultObjects(erased);
      for (const hash of erasedSet) {
        if (store.vaultObjectStatus(hash) === 'wanted') store.unwantVaultObject(hash);
        this.sync.forget(hash);
      }
      if (deleted > 0) this.deps.log('info', `vault: deleted ${deleted} objects of erased records`);
    }
    if (missing.length > 0) this.sync.kick();
  }

  /** A vault message from an authenticated peer (not yet validated). */
  onPeerMessage(peer: string, msg: Record<string, unknown>): void {
    if (this.stopped) return;
    if (msg.type === 'vault-data') this.sync.onData(peer, msg);
    else if (msg.type === 'vault-get') this.serve(peer, msg);
  }

  /** Delete unanchored objects uploaded more than unanchoredTtlMs ago; returns how many. */
  expireUnanchored(): number {
    const expired = this.deps.store.expireUnanchoredVaultObjects(this.deps.now() - this.unanchoredTtlMs);
    if (expired > 0) this.deps.log('info', `vault: expired ${expired} objects whose anchor never committed`);
    return expired;
  }

  /** Run one fetch pass over the wanted objects now; returns how many arrived. */
  syncWanted(): Promise<number> {
    return this.sync.syncPass();
  }

  /**
   * Answer a vault-get with an anchored object whose bytes still hash correctly, else
   * null. Unanchored uploads are not served: until an anchor commits, nothing says the
   * network should keep them.
   */
  private serve(peer: string, msg: Record<string, unknown>): void {
    const request = parseVaultGet(msg);
    if (request === undefined) {
      this.deps.log('warn', `ignored a malformed vault-get message from ${this.deps.peers.nameOf(peer)}`);
      return;
    }
    const { store } = this.deps;
    let data: Uint8Array | undefined;
    if (store.vaultObjectStatus(request.hash) === 'anchored') {
      data = store.getVaultObject(request.hash);
      if (data !== undefined && sha256Hex(data) !== request.hash) {
        data = undefined;
        this.dropCorrupt(request.hash);
        this.sync.kick();
      }
    }
    this.deps.peers.send(peer, vaultDataMessage(request.id, request.hash, data));
  }

  /**
   * Drop a held copy that failed its hash check; an anchored one is marked wanted so it is
   * fetched again. Logs the hash prefix only: the bytes are a patient's ciphertext. Returns
   * whether it was anchored.
   */
  private dropCorrupt(hash: string): boolean {
    const { store } = this.deps;
    const anchored = store.vaultObjectStatus(hash) === 'anchored';
    this.deps.log(
      'warn',
      `vault object ${hash.slice(0, 12)} failed its hash check here; deleted the local copy${anchored ? ' and fetching it from peers' : ''}`,
    );
    store.deleteVaultObjects([hash]);
    if (anchored) store.markVaultAnchored([hash]);
    return anchored;
  }
}

/** Bytes that are the canonical JSON of an envelope sealing one 256-bit key (a record's key envelope). */
function isKeyEnvelope(bytes: Uint8Array | undefined): boolean {
  if (bytes === undefined || bytes.length !== KEY_ENVELOPE_BYTES) return false;
  try {
    return validateEnvelope(JSON.parse(Buffer.from(bytes).toString('utf8'))).ct.length === 2 * 32;
  } catch {
    return false;
  }
}
