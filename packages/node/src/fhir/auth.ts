// SMART Backend Services (SMART App Launch 2.x, "Backend Services"): an organization's
// system, or one of its staff, signs a JWT client assertion (RFC 7523) with its ledger key
// (EdDSA, Ed25519) and gets a short-lived bearer token from this FHIR server.
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fromHex, sha256Hex, toHex, utf8 } from '@medledger/crypto';
import { getIdentity, type Identity, inactiveReason, type StateReader } from '@medledger/ehr';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { FhirError } from './outcome.js';

/** RFC 7523 §2.2: the only client assertion type the token endpoint accepts. */
export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** How long an access token lives (s). */
export const TOKEN_LIFETIME_S = 300;
/** Latest `exp` a client assertion may carry, from now (SMART: no more than five minutes). */
export const MAX_ASSERTION_LIFETIME_S = 300;
/** Scopes granted when a client asks for none. */
export const DEFAULT_SCOPES = ['system/*.cruds'];

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/**
 * Hard bounds of the token and `jti` tables. Expired entries are swept first; when a table
 * is still full the token endpoint refuses with 503 `temporarily_unavailable` rather than
 * forget a live token or a used `jti` (which would allow an assertion replay).
 */
export const DEFAULT_SMART_LIMITS = { maxTokens: 100_000, maxJti: 100_000 } as const;
const SWEEP_EVERY_MS = 1_000;

/** An OAuth 2.0 token endpoint error (RFC 6749 §5.2), answered as `{error, error_description}`. */
export class OAuthError extends Error {
  constructor(
    readonly error: 'invalid_request' | 'invalid_client' | 'unsupported_grant_type' | 'invalid_scope' | 'temporarily_unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'OAuthError';
  }
  /** RFC 6749 §5.2: 401 for a client that failed to authenticate, 503 when the server is full, 400 otherwise. */
  get status(): number {
    if (this.error === 'temporarily_unavailable') return 503;
    return this.error === 'invalid_client' ? 401 : 400;
  }
}

/** Who a bearer token acts for. */
export interface FhirCaller {
  identity: Identity;
  scopes: string[];
}

interface TokenEntry {
  identityId: string;
  publicKey: string;
  scopes: string[];
  expiresAt: number;
}

/**
 * Sign a client assertion for the token endpoint at `tokenUrl` with an Ed25519 key
 * (hex seed). `clientId` is the ledger identity id (iss and sub). Throws TypeError on a
 * malformed key.
 */
export async function signClientAssertion(opts: {
  clientId: string;
  privateKey: string;
  tokenUrl: string;
  now?: number;
  lifetimeS?: number;
  jti?: string;
}): Promise<string> {
  const key = createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, fromHex(opts.privateKey, 'private key', 32)]),
    format: 'der',
    type: 'pkcs8',
  });
  const iat = Math.floor((opts.now ?? Date.now()) / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
    .setIssuer(opts.clientId)
    .setSubject(opts.clientId)
    .setAudience(opts.tokenUrl)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (opts.lifetimeS ?? 240))
    .setJti(opts.jti ?? toHex(randomBytes(16)))
    .sign(key);
}

/** A permission a scope can hold: SMART v2 letters, in the order a v2 scope writes them. */
export type ScopeAction = 'c' | 'r' | 'u' | 'd' | 's';
const ACTIONS: readonly ScopeAction[] = ['c', 'r', 'u', 'd', 's'];
/** SMART v1 permissions as the v2 letters they stand for (SMART App Launch 2.x, "Scopes for requesting clinical data"). */
const V1: Record<string, readonly ScopeAction[]> = { read: ['r', 's'], write: ['c', 'u', 'd'], '*': ACTIONS };
const SCOPE_RE = /^system\/(\*|[A-Z][A-Za-z]+)\.(read|write|\*|c?r?u?d?s?)$/;

/**
 * A system scope as the resource type it names (`*`: every type, and searches across types)
 * and the actions it allows; undefined when it is not a scope this server grants.
 */
function scopeParts(scope: string): { type: string; actions: Set<ScopeAction> } | undefined {
  const m = SCOPE_RE.exec(scope);
  if (m === null || scope.endsWith('.')) return undefined;
  const p = m[2] as string;
  return { type: m[1] as string, actions: new Set(V1[p] ?? (p.split('') as ScopeAction[])) };
}

/** Is `scope` a system scope this server grants (SMART v1 `system/T.read|write|*`, v2 `system/T.cruds` subsets)? */
export function isSystemScope(scope: string): boolean {
  return scopeParts(scope) !== undefined;
}

/** Scopes this server understands: SMART v1 `system/T.read|write|*` and v2 `system/T.cruds` subsets. */
function parseScopes(raw: string | undefined): string[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const scopes = raw.trim().split(/\s+/);
  for (const s of scopes)
    if (!isSystemScope(s)) throw new OAuthError('invalid_scope', `scope '${s}' is not a system scope this server grants`);
  return scopes;
}

/**
 * The part of `requested` that `registered` permits, exactly: a (type, action) is allowed by
 * the answer if and only if both lists allow it (scopeAllows). A requested scope permitted
 * in full is kept as written (v1 or v2); one permitted in part becomes the v2 scopes of what
 * is left (`system/*.cruds` under `system/Observation.rs` is `system/Observation.rs`). Empty
 * when nothing of the request is permitted. Both lists must hold only valid system scopes.
 */
export function intersectScopes(requested: readonly string[], registered: readonly string[]): string[] {
  const allowed = registered.map(scopeParts).filter((g) => g !== undefined);
  const out = new Set<string>();
  for (const scope of requested) {
    const r = scopeParts(scope);
    if (r === undefined) continue;
    // (types of r ∩ types of g) × (actions of r ∩ actions of g), for every registered g, merged by type.
    const byType = new Map<string, Set<ScopeAction>>();
    for (const g of allowed) {
      const type = r.type === '*' ? g.type : g.type === '*' || g.type === r.type ? r.type : undefined;
      if (type === undefined) continue;
      const acts = byType.get(type) ?? new Set<ScopeAction>();
      for (const a of r.actions) if (g.actions.has(a)) acts.add(a);
      if (acts.size > 0) byType.set(type, acts);
    }
    const whole = byType.get(r.type);
    if (whole !== undefined && whole.size === r.actions.size) {
      out.add(scope);
      continue;
    }
    for (const [type, acts] of byType) out.add(`system/${type}.${ACTIONS.filter((a) => acts.has(a)).join('')}`);
  }
  return [...out];
}

/** Does a scope list allow `action` ('r' read/vread, 's' search, 'c' create, 'u' update, 'd' delete) on `type` (`*`: across types)? */
export function scopeAllows(scopes: readonly string[], type: string, action: ScopeAction): boolean {
  return scopes.some((s) => {
    const p = scopeParts(s);
    return p !== undefined && (p.type === '*' || p.type === type) && p.actions.has(action);
  });
}

/**
 * The token endpoint and bearer-token check for one organization. Assertions must come
 * from the organization's admin identity or one of its active staff; `jti` values are
 * remembered until their assertion expires, so an assertion is used once.
 */
export class SmartAuth {
  private readonly tokens = new Map<string, TokenEntry>();
  private readonly seenJti = new Map<string, number>();
  private readonly limits: { maxTokens: number; maxJti: number };
  private lastSweep = Number.NEGATIVE_INFINITY;
  /** Lines appended to the `jti` file since it was last rewritten with only the live entries. */
  private appended = 0;

  /**
   * `jtiFile`: where used `jti`s are kept across restarts (one `until hash` line each), so an
   * assertion used before a restart is still refused after it; without it they live in memory.
   * `clients`: an identity listed there is granted at most its registered scopes (the part of
   * its request they permit, all of them when it asks for none); with `clientsOnly` an
   * identity not listed gets no token.
   */
  constructor(
    private readonly orgId: string,
    private readonly deps: {
      state: StateReader;
      now: () => number;
      limits?: { maxTokens: number; maxJti: number };
      jtiFile?: string;
      /** Registered backend clients: identity id → the scopes it may be granted (config `fhir.smartClients`). */
      clients?: ReadonlyMap<string, readonly string[]>;
      /** Refuse every identity `clients` does not list (config `fhir.smartClientsOnly`). */
      clientsOnly?: boolean;
    },
  ) {
    this.limits = deps.limits ?? DEFAULT_SMART_LIMITS;
    const file = deps.jtiFile;
    if (file !== undefined && existsSync(file)) {
      const now = deps.now();
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        const m = /^(\d{1,16}) ([0-9a-f]{64})$/.exec(line);
        if (m !== null && Number(m[1]) >= now) this.seenJti.set(m[2] as string, Number(m[1]));
      }
      this.rewriteJtiFile();
    }
  }

  /** Rewrite the `jti` file with the remembered entries only (atomically, 0600). */
  private rewriteJtiFile(): void {
    const file = this.deps.jtiFile;
    if (file === undefined) return;
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, [...this.seenJti].map(([k, until]) => `${until} ${k}\n`).join(''), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
    this.appended = 0;
  }

  /** Forget expired tokens and `jti`s: at most once a second, or at once when a table is full. */
  private sweep(nowMs: number): void {
    const full = this.tokens.size >= this.limits.maxTokens || this.seenJti.size >= this.limits.maxJti;
    if (!full && nowMs - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = nowMs;
    for (const [k, until] of this.seenJti) if (until < nowMs) this.seenJti.delete(k);
    for (const [k, t] of this.tokens) if (t.expiresAt <= nowMs) this.tokens.delete(k);
    if (this.appended > Math.max(1_000, this.seenJti.size)) this.rewriteJtiFile();
  }

  /** Live tokens and remembered `jti`s, for tests and metrics. */
  sizes(): { tokens: number; jti: number } {
    return { tokens: this.tokens.size, jti: this.seenJti.size };
  }

  /**
   * Is `identity` the organization or one of its staff, and may it act now? Staff of an
   * organization governance has suspended or removed may not (ehr inactiveReason), as on the
   * gatekeeper's routes.
   */
  private belongs(identity: Identity | undefined): identity is Identity {
    return (
      identity !== undefined &&
      (identity.id === this.orgId || identity.org === this.orgId) &&
      inactiveReason(this.deps.state, identity) === undefined
    );
  }

  /**
   * Handle a token request (SMART Backend Services §"Obtaining an access token"): form
   * fields `grant_type`, `client_assertion_type`, `client_assertion`, `scope`, for the
   * endpoint at `tokenUrl`. Throws OAuthError.
   */
  async issueToken(form: Record<string, string | undefined>, tokenUrl: string) {
    // A JSON body reaches here too: a field that is not a string is a bad request, not a crash.
    for (const field of ['grant_type', 'client_assertion_type', 'client_assertion', 'scope'])
      if (form[field] !== undefined && typeof form[field] !== 'string')
        throw new OAuthError('invalid_request', `${field} must be a string`);
    if (form.grant_type !== 'client_credentials') throw new OAuthError('unsupported_grant_type', 'grant_type must be client_credentials');
    if (form.client_assertion_type !== JWT_BEARER) throw new OAuthError('invalid_request', `client_assertion_type must be ${JWT_BEARER}`);
    const assertion = form.client_assertion;
    if (typeof assertion !== 'string' || assertion.length === 0 || assertion.length > 4096)
      throw new OAuthError('invalid_request', 'client_assertion is required');
    const requested = parseScopes(form.scope);

    // Read the claimed issuer first to find its key on chain, then verify everything.
    let claimed: string | undefined;
    try {
      const payload = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8'));
      claimed = typeof payload?.iss === 'string' ? payload.iss : undefined;
    } catch {
      throw new OAuthError('invalid_client', 'client_assertion is not a JWT');
    }
    const identity = claimed === undefined || !/^[0-9a-f]{40}$/.test(claimed) ? undefined : getIdentity(this.deps.state, claimed);
    if (!this.belongs(identity))
      throw new OAuthError('invalid_client', 'the assertion issuer is not this organization or one of its active staff');
    const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, fromHex(identity.publicKey, 'key', 32)]), format: 'der', type: 'spki' });
    const nowMs = this.deps.now();
    let payload: { exp?: number; jti?: string };
    try {
      ({ payload } = await jwtVerify(assertion, key, {
        algorithms: ['EdDSA'],
        issuer: identity.id,
        subject: identity.id,
        audience: tokenUrl,
        requiredClaims: ['exp', 'jti'],
        currentDate: new Date(nowMs),
        clockTolerance: 5,
      }));
    } catch (err) {
      const why =
        err instanceof joseErrors.JWTExpired
          ? 'the assertion has expired'
          : err instanceof joseErrors.JWTClaimValidationFailed
            ? `the assertion's ${err.claim} claim is wrong or missing`
            : 'the assertion signature does not verify with the identity key';
      throw new OAuthError('invalid_client', why);
    }
    const exp = payload.exp as number;
    if (exp * 1000 > nowMs + MAX_ASSERTION_LIFETIME_S * 1000 + 5000)
      throw new OAuthError('invalid_client', `the assertion may live at most ${MAX_ASSERTION_LIFETIME_S} s`);
    const jti = String(payload.jti);
    this.sweep(nowMs);
    const jtiKey = sha256Hex(utf8(`${identity.id}\n${jti}`));
    if (this.seenJti.has(jtiKey)) throw new OAuthError('invalid_client', 'this assertion (jti) was already used');
    // Decided before the jti is recorded: a refused request leaves nothing behind.
    const scopes = this.grantedScopes(identity.id, requested);
    if (this.seenJti.size >= this.limits.maxJti || this.tokens.size >= this.limits.maxTokens)
      throw new OAuthError('temporarily_unavailable', 'too many live tokens on this server; retry after the oldest expire');
    const until = exp * 1000 + 5000;
    if (this.deps.jtiFile !== undefined) {
      // On disk before the token leaves, so a restart cannot make the assertion new again.
      try {
        appendFileSync(this.deps.jtiFile, `${until} ${jtiKey}\n`, { mode: 0o600 });
      } catch {
        throw new OAuthError('temporarily_unavailable', 'this server cannot record the assertion right now; retry');
      }
      this.appended++;
    }
    this.seenJti.set(jtiKey, until);

    const token = toHex(randomBytes(32));
    this.tokens.set(sha256Hex(utf8(token)), {
      identityId: identity.id,
      publicKey: identity.publicKey,
      scopes,
      expiresAt: nowMs + TOKEN_LIFETIME_S * 1000,
    });
    return { access_token: token, token_type: 'bearer', expires_in: TOKEN_LIFETIME_S, scope: scopes.join(' ') };
  }

  /**
   * What a verified client gets for the scopes it asked for (undefined: none asked). An
   * unregistered client gets its request (or DEFAULT_SCOPES), unless only registered clients
   * may have tokens; a registered one the part of its request its registration permits.
   */
  private grantedScopes(identityId: string, requested: string[] | undefined): string[] {
    const registered = this.deps.clients?.get(identityId);
    if (registered === undefined) {
      if (this.deps.clientsOnly === true)
        throw new OAuthError('invalid_client', 'this identity is not a registered SMART client of this server (fhir.smartClients)');
      return requested ?? [...DEFAULT_SCOPES];
    }
    if (requested === undefined) return [...registered];
    const granted = intersectScopes(requested, registered);
    if (granted.length === 0)
      throw new OAuthError(
        'invalid_scope',
        `none of the requested scopes is registered for this client; it may be granted: ${registered.join(' ')}`,
      );
    return granted;
  }

  /**
   * The caller of a FHIR request from its `Authorization: Bearer` header. The identity is
   * re-read from the latest state, so a revoked staff member or a rotated key loses its
   * tokens at once. Throws FhirError 401.
   */
  authenticate(authorization: string | undefined): FhirCaller {
    const m = /^Bearer ([0-9a-f]{64})$/i.exec(authorization ?? '');
    if (m === null) throw new FhirError(401, 'login', 'send Authorization: Bearer TOKEN from the token endpoint');
    const key = sha256Hex(utf8((m[1] as string).toLowerCase()));
    const entry = this.tokens.get(key);
    if (entry === undefined || entry.expiresAt <= this.deps.now()) {
      this.tokens.delete(key);
      throw new FhirError(401, 'login', 'unknown or expired token; get a new one from the token endpoint');
    }
    const identity = getIdentity(this.deps.state, entry.identityId);
    if (!this.belongs(identity) || identity.publicKey !== entry.publicKey) {
      this.tokens.delete(key);
      throw new FhirError(401, 'login', 'this identity is no longer active here');
    }
    return { identity, scopes: entry.scopes };
  }
}
