// The gatekeeper (DESIGN §7): callers prove their key for a short-lived session, reads are
// decided from committed ledger state at the latest height, and every decision is queued
// durably as an access event before the answer leaves, then committed by this node.
import { randomBytes } from 'node:crypto';
import { concatBytes, idFromPublicKey, isHex, sha256Hex, toHex, utf8, verifyEd25519 } from '@medledger/crypto';
import { type AccessEventInput, type Identity, identityOfKey, keys, MAX_ACCESS_EVENTS } from '@medledger/ehr';
import { canonicalBytes, signTx, txHash } from '@medledger/ledger';
import { ApiError } from './errors.js';
import type { MedLedgerNode } from './node.js';

export const AUTH_DOMAIN = 'medledger/auth/v1\n';
const CHALLENGE_TTL_MS = 60_000;
const MAX_CHALLENGES = 10_000;
const FLUSH_INTERVAL_MS = 200;

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

interface Session {
  publicKey: string;
  createdAt: number;
  lastUsed: number;
}

export class Gatekeeper {
  private readonly challenges = new Map<string, { publicKey: string; expiresAt: number }>();
  /** Sessions by SHA-256 of the token: the token itself is never kept. */
  private readonly sessions = new Map<string, Session>();
  private readonly inFlight = new Map<number, string>();
  private timer: NodeJS.Timeout | undefined;
  private eventSeq = 0;
  private readonly eventPrefix = toHex(randomBytes(6));

  constructor(
    private readonly node: MedLedgerNode,
    private readonly cfg: SessionConfig,
  ) {}

  challenge(publicKey: unknown): { challenge: string; expiresAt: number } {
    if (!isHex(publicKey, 32)) throw new ApiError('INVALID_BODY', 'body.publicKey must be 32-byte hex');
    const now = this.node.now();
    if (this.challenges.size >= MAX_CHALLENGES) {
      for (const [c, v] of this.challenges) if (v.expiresAt <= now) this.challenges.delete(c);
      if (this.challenges.size >= MAX_CHALLENGES) throw new ApiError('RATE_LIMITED', 'too many sign-ins in progress; retry shortly');
    }
    const challenge = toHex(randomBytes(32));
    const expiresAt = now + CHALLENGE_TTL_MS;
    this.challenges.set(challenge, { publicKey, expiresAt });
    return { challenge, expiresAt };
  }

  /** Exchange a signed challenge for a session token. Challenges are single-use. */
  openSession(body: Record<string, unknown>): { token: string; expiresAt: number; idleTimeoutMs: number; identity: Identity } {
    const { publicKey, challenge, signature } = body;
    if (!isHex(publicKey, 32) || !isHex(challenge, 32) || !isHex(signature, 64)) {
      throw new ApiError('INVALID_BODY', 'body needs publicKey, challenge and signature as hex');
    }
    const pending = this.challenges.get(challenge);
    this.challenges.delete(challenge);
    const now = this.node.now();
    if (pending === undefined || pending.publicKey !== publicKey || pending.expiresAt <= now) {
      throw new ApiError('AUTH_FAILED', 'unknown or expired challenge; ask for a new one');
    }
    const bytes = authSignBytes({ chainId: this.node.chain.chainId, node: this.node.publicKey, challenge, publicKey });
    if (!verifyEd25519(publicKey, bytes, signature)) throw new ApiError('AUTH_FAILED', 'the signature does not verify');
    const identity = identityOfKey(this.node.chain.state, publicKey);
    if (identity === undefined || identity.status !== 'active')
      throw new ApiError('UNKNOWN_IDENTITY', 'this key is not an active identity');
    const token = toHex(randomBytes(32));
    this.sessions.set(sha256Hex(utf8(token)), { publicKey, createdAt: now, lastUsed: now });
    return { token, expiresAt: now + this.cfg.maxLifetimeMs, idleTimeoutMs: this.cfg.idleTimeoutMs, identity };
  }

  closeSession(authorization: string | undefined): void {
    const token = bearer(authorization);
    if (token !== undefined) this.sessions.delete(sha256Hex(utf8(token)));
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
    const now = this.node.now();
    if (session === undefined) throw new ApiError('UNAUTHENTICATED', 'unknown session; sign in again');
    if (now - session.lastUsed > this.cfg.idleTimeoutMs || now - session.createdAt > this.cfg.maxLifetimeMs) {
      this.sessions.delete(key);
      throw new ApiError('SESSION_EXPIRED', 'the session has expired; sign in again');
    }
    const identity = identityOfKey(this.node.chain.state, session.publicKey);
    if (identity === undefined || identity.status !== 'active') {
      this.sessions.delete(key);
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
    const now = this.node.now();
    if (session === undefined || now - session.lastUsed > this.cfg.idleTimeoutMs || now - session.createdAt > this.cfg.maxLifetimeMs)
      return undefined;
    return session.publicKey;
  }

  /** Queue an access event durably (SQLite outbox) before the read is answered. Returns its id. */
  record(event: Omit<AccessEventInput, 'id' | 'at'>): string {
    const id = `${this.eventPrefix}${(this.eventSeq++).toString(36)}`;
    const full: AccessEventInput = { id, at: this.node.now(), ...event };
    this.node.chain.store.appendOutbox([JSON.stringify(full)]);
    return `${idFromPublicKey(this.node.publicKey)}-${id}`;
  }

  start(): void {
    this.timer = setInterval(() => this.flush(), FLUSH_INTERVAL_MS);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  /**
   * Submit queued events that are neither committed nor in a pending transaction; drop
   * those the chain has. After a crash every uncommitted event is simply sent again, and
   * the chain skips ids it already holds.
   */
  flush(): void {
    const node = idFromPublicKey(this.node.publicKey);
    const queued = this.node.chain.store.loadOutbox(5_000);
    const done: number[] = [];
    const send: Array<{ seq: number; event: AccessEventInput }> = [];
    for (const { seq, item } of queued) {
      const event = JSON.parse(item) as AccessEventInput;
      if (this.node.chain.state.getState(keys.accessSeen(`${node}-${event.id}`)) !== undefined) {
        done.push(seq);
        this.inFlight.delete(seq);
        continue;
      }
      const pendingTx = this.inFlight.get(seq);
      if (pendingTx !== undefined && this.node.mempool.has(pendingTx)) continue;
      send.push({ seq, event });
    }
    if (done.length > 0) this.node.chain.store.removeOutbox(done);
    for (let i = 0; i < send.length; i += MAX_ACCESS_EVENTS) {
      const chunk = send.slice(i, i + MAX_ACCESS_EVENTS);
      const tx = signTx(
        {
          v: 1,
          chain: this.node.chain.chainId,
          kind: 'access.event',
          signer: this.node.publicKey,
          nonce: this.node.chain.app.pendingNonce(this.node.publicKey),
          body: { events: chunk.map((c) => c.event) },
        },
        this.node.home.key.signing.privateKey,
      );
      try {
        this.node.admit(tx);
        const hash = txHash(tx);
        for (const c of chunk) this.inFlight.set(c.seq, hash);
      } catch (err) {
        this.node.log('warn', `access events not submitted yet (${(err as ApiError).code ?? 'error'}); will retry`);
        return;
      }
    }
  }
}

function bearer(authorization: string | undefined): string | undefined {
  const m = /^Bearer ([0-9a-f]{64})$/.exec(authorization ?? '');
  return m?.[1];
}
