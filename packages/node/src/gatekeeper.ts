// The gatekeeper (DESIGN §7): callers prove their key for a short-lived session, reads are
// decided from committed ledger state at the latest height, and every decision is queued
// durably as an access event before the answer leaves, then committed by this node.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { concatBytes, isHex, sha256Hex, toHex, utf8, verifyEd25519 } from '@medledger/crypto';
import { type AccessEventInput, type Identity, identityOfKey, inactiveReason, type StateReader } from '@medledger/ehr';
import { canonicalBytes } from '@medledger/ledger';
import type { AccessQueue } from './access-queue.js';
import { ApiError } from './errors.js';
import type { OrgResealer } from './org-reseal.js';
import type { AccessTime, Now } from './ports.js';
import { gateRead, type ReadGateDeps, type ReadOptions, type ServedRead } from './read-gate.js';

export const AUTH_DOMAIN = 'medledger/auth/v1\n';
/** How long a challenge may be answered (ms). */
export const CHALLENGE_TTL_MS = 60_000;
/** Domain tag of the challenge MAC, so the node secret authenticates nothing else. */
const CHALLENGE_MAC_DOMAIN = 'medledger/challenge/v1\n';
/**
 * Sign-ins one key may make per challenge lifetime: each answered challenge is remembered
 * until it expires, so this bounds that memory per identity without one caller's volume
 * touching anyone else's sign-in.
 */
export const MAX_SIGN_INS_PER_KEY = 600;
/**
 * Answered challenges remembered for keys that are not active identities. Their answer
 * gets no session, so past this bound they are simply not remembered: a flood of them
 * can neither fill memory nor lock anyone out.
 */
export const MAX_UNKNOWN_KEY_CHALLENGES = 100_000;
/** Most live sessions per key: a further sign-in ends that key's least recently used one. */
export const MAX_SESSIONS_PER_KEY = 32;
const SWEEP_INTERVAL_MS = 30_000;

/** Session lifetimes; `config.json` may override them under `sessions`. */
export interface SessionConfig {
  idleTimeoutMs: number;
  maxLifetimeMs: number;
}
export const DEFAULT_SESSION_CONFIG: SessionConfig = { idleTimeoutMs: 15 * 60_000, maxLifetimeMs: 8 * 60 * 60_000 };

/** Bytes a caller signs to open a session with this node. */
export function authSignBytes(c: { chainId: string; node: string; challenge: string; publicKey: string }): Uint8Array {
  return concatBytes(
    utf8(AUTH_DOMAIN),
    canonicalBytes({ chainId: c.chainId, node: c.node, challenge: c.challenge, publicKey: c.publicKey }),
  );
}

export interface GatekeeperOptions extends SessionConfig {
  chainId: string;
  /** This node's signing public key: sessions are opened with this node only. */
  nodePublicKey: string;
}

export interface GatekeeperDeps {
  /** Committed state: identities and everything the read gate decides by. */
  state: StateReader;
  now: Now;
  accessTime: AccessTime;
  /** A vault object's bytes, re-hashed (Vault.getVerified). */
  getVerified: ReadGateDeps['getVerified'];
  /** Where every read decision is queued durably (access-queue.ts). */
  events: AccessQueue;
  /** The organization's key, when this node is its organization's system (config `reseal`, org-reseal.ts). */
  resealer?: OrgResealer;
  /**
   * The key this node signs its access events with (its validator key, or `node.next.key`
   * once a rotation by vote made that the validator's key): reads are served only while it
   * is an active validator's, since only validators record access events.
   */
  eventKey: () => string;
}

interface Session {
  publicKey: string;
  createdAt: number;
  lastUsed: number;
}

export class Gatekeeper {
  /**
   * Challenges are stateless (issue 12 item 5): a MAC under this secret, which lives only
   * in memory, so no number of anonymous challenge requests fills any table. A restart
   * voids outstanding challenges; clients simply ask again.
   */
  private readonly challengeSecret = randomBytes(32);
  /** Answered challenges until they expire, so each opens one session: of active identities, then of other keys. */
  private readonly usedChallenges = new Map<string, { publicKey: string; expiresAt: number }>();
  private readonly unknownKeyChallenges = new Map<string, number>();
  /** Entries of `usedChallenges` per key, for MAX_SIGN_INS_PER_KEY. */
  private readonly signInsByKey = new Map<string, number>();
  /** Sessions by SHA-256 of the token: the token itself is never kept. */
  private readonly sessions = new Map<string, Session>();
  /** Token hashes of each key's live sessions, for the per-key cap. */
  private readonly sessionsByKey = new Map<string, Set<string>>();
  private sweepTimer: NodeJS.Timeout | undefined;

  /** Every read decision, queued durably and submitted as access events (access-queue.ts). */
  readonly events: AccessQueue;
  /** Set when this node is its organization's system (config `reseal`): re-seals to its staff. */
  private readonly resealer: OrgResealer | undefined;

  constructor(
    private readonly cfg: GatekeeperOptions,
    private readonly deps: GatekeeperDeps,
  ) {
    this.events = deps.events;
    this.resealer = deps.resealer;
  }

  /**
   * A challenge for `publicKey`: 8 bytes issue time (ms, big-endian), 8 random bytes, and
   * the first 16 bytes of HMAC-SHA256 under the node secret over the node key, the caller's
   * key, the time and the nonce. Nothing is stored; `openSession` recomputes the MAC.
   */
  challenge(publicKey: unknown): { challenge: string; expiresAt: number } {
    if (!isHex(publicKey, 32)) throw new ApiError('INVALID_BODY', 'body.publicKey must be 32-byte hex');
    const issuedAt = this.deps.now();
    const head = Buffer.alloc(16);
    head.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(issuedAt))), 0);
    randomBytes(8).copy(head, 8);
    const challenge = toHex(Buffer.concat([head, this.challengeMac(publicKey, head)]));
    return { challenge, expiresAt: issuedAt + CHALLENGE_TTL_MS };
  }

  private challengeMac(publicKey: string, head: Uint8Array): Buffer {
    return createHmac('sha256', this.challengeSecret)
      .update(CHALLENGE_MAC_DOMAIN)
      .update(this.cfg.nodePublicKey)
      .update(publicKey)
      .update(head)
      .digest()
      .subarray(0, 16);
  }

  /** The expiry of a challenge this node issued to `publicKey`, or undefined when it did not issue it. */
  private challengeExpiry(publicKey: string, challenge: string): number | undefined {
    const bytes = Buffer.from(challenge, 'hex');
    const head = bytes.subarray(0, 16);
    if (!timingSafeEqual(this.challengeMac(publicKey, head), bytes.subarray(16))) return undefined;
    return Number(head.readBigUInt64BE(0)) + CHALLENGE_TTL_MS;
  }

  /** Exchange a signed challenge for a session token. Challenges are single-use. */
  openSession(body: Record<string, unknown>): { token: string; expiresAt: number; idleTimeoutMs: number; identity: Identity } {
    const { publicKey, challenge, signature } = body;
    if (!isHex(publicKey, 32) || !isHex(challenge, 32) || !isHex(signature, 64)) {
      throw new ApiError('INVALID_BODY', 'body needs publicKey, challenge and signature as hex');
    }
    const now = this.deps.now();
    const expiresAt = this.challengeExpiry(publicKey, challenge);
    if (expiresAt === undefined || expiresAt <= now || this.usedChallenges.has(challenge) || this.unknownKeyChallenges.has(challenge)) {
      throw new ApiError('AUTH_FAILED', 'unknown, used or expired challenge; ask for a new one');
    }
    const bytes = authSignBytes({ chainId: this.cfg.chainId, node: this.cfg.nodePublicKey, challenge, publicKey });
    if (!verifyEd25519(publicKey, bytes, signature)) throw new ApiError('AUTH_FAILED', 'the signature does not verify');
    const identity = identityOfKey(this.deps.state, publicKey);
    if (identity === undefined || inactiveReason(this.deps.state, identity) !== undefined) {
      // Remembered too (while there is room), so an answer captured now cannot be replayed
      // if the key is registered within the challenge's minute.
      if (this.unknownKeyChallenges.size < MAX_UNKNOWN_KEY_CHALLENGES) this.unknownKeyChallenges.set(challenge, expiresAt);
      throw new ApiError('UNKNOWN_IDENTITY', 'this key is not an active identity');
    }
    const signIns = this.signInsByKey.get(publicKey) ?? 0;
    if (signIns >= MAX_SIGN_INS_PER_KEY)
      throw new ApiError('RATE_LIMITED', `this key signed in ${MAX_SIGN_INS_PER_KEY} times within a minute; retry shortly`);
    this.usedChallenges.set(challenge, { publicKey, expiresAt });
    this.signInsByKey.set(publicKey, signIns + 1);
    const token = toHex(randomBytes(32));
    this.addSession(sha256Hex(utf8(token)), { publicKey, createdAt: now, lastUsed: now });
    return { token, expiresAt: now + this.cfg.maxLifetimeMs, idleTimeoutMs: this.cfg.idleTimeoutMs, identity };
  }

  /** Add a session, ending the key's least recently used one when it has MAX_SESSIONS_PER_KEY. */
  private addSession(hash: string, session: Session): void {
    let own = this.sessionsByKey.get(session.publicKey);
    if (own === undefined) {
      own = new Set();
      this.sessionsByKey.set(session.publicKey, own);
    }
    if (own.size >= MAX_SESSIONS_PER_KEY) {
      let oldest: string | undefined;
      let oldestUse = Number.POSITIVE_INFINITY;
      for (const h of own) {
        const used = this.sessions.get(h)?.lastUsed ?? Number.NEGATIVE_INFINITY;
        if (used < oldestUse) {
          oldestUse = used;
          oldest = h;
        }
      }
      if (oldest !== undefined) this.deleteSession(oldest);
    }
    this.sessions.set(hash, session);
    own.add(hash);
  }

  private deleteSession(hash: string): void {
    const session = this.sessions.get(hash);
    if (session === undefined) return;
    this.sessions.delete(hash);
    const own = this.sessionsByKey.get(session.publicKey);
    own?.delete(hash);
    if (own?.size === 0) this.sessionsByKey.delete(session.publicKey);
  }

  private expired(session: Session, now: number): boolean {
    return now - session.lastUsed > this.cfg.idleTimeoutMs || now - session.createdAt > this.cfg.maxLifetimeMs;
  }

  /** Forget expired sessions and answered challenges past their lifetime (run on a timer). */
  sweep(): void {
    const now = this.deps.now();
    for (const [hash, session] of this.sessions) if (this.expired(session, now)) this.deleteSession(hash);
    for (const [challenge, used] of this.usedChallenges) {
      if (used.expiresAt > now) continue;
      this.usedChallenges.delete(challenge);
      const left = (this.signInsByKey.get(used.publicKey) ?? 1) - 1;
      if (left <= 0) this.signInsByKey.delete(used.publicKey);
      else this.signInsByKey.set(used.publicKey, left);
    }
    for (const [challenge, expiresAt] of this.unknownKeyChallenges) if (expiresAt <= now) this.unknownKeyChallenges.delete(challenge);
  }

  /** Live sessions and remembered challenges, for tests and metrics. */
  sizes(): { sessions: number; usedChallenges: number } {
    return { sessions: this.sessions.size, usedChallenges: this.usedChallenges.size + this.unknownKeyChallenges.size };
  }

  closeSession(authorization: string | undefined): void {
    const token = bearer(authorization);
    if (token !== undefined) this.deleteSession(sha256Hex(utf8(token)));
  }

  /**
   * The caller's identity for a request: a live session whose key still belongs to an
   * active identity at the latest height (a rotated or revoked key loses its sessions).
   */
  authenticate(authorization: string | undefined): Identity {
    const token = bearer(authorization);
    if (token === undefined) throw new ApiError('UNAUTHENTICATED', 'sign in first: send Authorization: Bearer TOKEN');
    const key = sha256Hex(utf8(token));
    const session = this.sessions.get(key);
    const now = this.deps.now();
    if (session === undefined) throw new ApiError('UNAUTHENTICATED', 'unknown session; sign in again');
    if (this.expired(session, now)) {
      this.deleteSession(key);
      throw new ApiError('SESSION_EXPIRED', 'the session has expired; sign in again');
    }
    const identity = identityOfKey(this.deps.state, session.publicKey);
    if (identity === undefined || inactiveReason(this.deps.state, identity) !== undefined) {
      this.deleteSession(key);
      throw new ApiError('UNAUTHENTICATED', 'this key is no longer an active identity');
    }
    session.lastUsed = now;
    return identity;
  }

  /**
   * The signing key of a live session named by an `Authorization` header, or undefined.
   * Changes nothing (no idle-timer refresh): the rate limiter keys requests by it.
   */
  sessionPublicKey(authorization: string | undefined): string | undefined {
    const token = bearer(authorization);
    if (token === undefined) return undefined;
    const session = this.sessions.get(sha256Hex(utf8(token)));
    const now = this.deps.now();
    if (session === undefined || this.expired(session, now)) return undefined;
    return session.publicKey;
  }

  /**
   * The one read gate (read-gate.ts) for `/v1` and the FHIR endpoint: decide a read of
   * `recordId` by `caller` from committed state, record it, and serve it or throw ApiError.
   */
  read(caller: Identity, recordId: string, opts: ReadOptions = {}): Promise<ServedRead> {
    // Every read lands on the ledger, and only validators may put it there (access.event): a
    // node that is not an active validator (a full node, a removed validator) serves no record.
    const self = identityOfKey(this.deps.state, this.deps.eventKey());
    if (self?.role !== 'validator' || self.status !== 'active')
      return Promise.reject(
        new ApiError(
          'READS_NOT_LOGGED',
          "this node is not an active validator, so it cannot record reads on the ledger and serves no record: read through a validator's node",
        ),
      );
    const deps = {
      state: this.deps.state,
      accessTime: this.deps.accessTime,
      getVerified: this.deps.getVerified,
      record: (e: Omit<AccessEventInput, 'id' | 'at'>) => this.events.recordDurably(e),
      ...(this.resealer === undefined ? {} : { resealer: this.resealer }),
    };
    return gateRead(deps, caller, recordId, opts);
  }

  /** See AccessQueue.attempt: a request for a record that never reached the read gate. */
  attempt(recordId: string | null, reason: string, accessor: Identity | null = null): void {
    this.events.attempt(recordId, reason, accessor);
  }

  /** Queue an access event durably (SQLite outbox) before the read is answered. Returns its id. */
  record(event: Omit<AccessEventInput, 'id' | 'at'>): string {
    return this.events.record(event);
  }

  start(): void {
    this.events.start();
    // At least as often as a session can idle out, so the table holds only live sessions.
    const every = Math.max(100, Math.min(SWEEP_INTERVAL_MS, this.cfg.idleTimeoutMs));
    this.sweepTimer = setInterval(() => this.sweep(), every);
    this.sweepTimer.unref();
  }

  stop(): void {
    this.events.stop();
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
  }
}

function bearer(authorization: string | undefined): string | undefined {
  const m = /^Bearer ([0-9a-f]{64})$/.exec(authorization ?? '');
  return m?.[1];
}
