// The connection layer of the client: one node's /v1 API over global `fetch`, the session
// flow of docs/records.md, nonce counting, and submitting and waiting for transactions.
import { idFromPublicKey, type KeyBundle } from '@medledger/crypto';
import type { SignedTx } from '@medledger/ledger';
import { signAuthChallenge } from './auth.js';
import { ClientError, hasClientCode } from './errors.js';
import { type HttpRequest, sendRequest } from './http.js';
import { verifyTxInclusion } from './light.js';
import { provenIdentityAnyStatus } from './proven-facts.js';
import {
  type Account,
  type Identity,
  type NodeStatus,
  objectAt,
  parseAccount,
  parseIdentity,
  parseInclusion,
  parseSession,
  parseStatus,
  type Session,
  type TxInclusion,
} from './responses.js';
import { refuse, type TrustedGenesis } from './trust.js';
import { buildTx, type TxBodies, type TxKindName } from './tx-builders.js';
import { VerifiedReader } from './verified-reader.js';

/** How to reach a node and whose keys to act with. */
export interface MedLedgerClientOptions {
  /** The node's base URL, e.g. `http://127.0.0.1:26657` (no trailing `/v1`). */
  url: string;
  keys: KeyBundle;
  /** Identity id when it differs from the one derived from `keys` (after a key rotation). */
  id?: string;
  /** Defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** Delay between polls of a pending transaction; default 200 ms. */
  pollIntervalMs?: number;
  /** Injected clock and sleep, for deterministic tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /**
   * The genesis this client trusts (docs/sdk.md "Trusted genesis"). Without it, every method
   * that encrypts to a key or accepts a fact from the node refuses with `NO_TRUSTED_GENESIS`.
   */
  genesis?: TrustedGenesis;
  /** A height verified earlier (e.g. saved between runs): answers proven lower are refused as `STALE_HEIGHT`. */
  minHeight?: number;
  /** Told each new highest verified height, e.g. to save it for `minHeight` next time. */
  onHeight?: (height: number) => void;
}

/** A transaction the node admitted to its mempool. */
export interface SubmittedTx {
  hash: string;
  tx: SignedTx;
}

/** A transaction committed in a block, its inclusion proof checked. */
export type CommittedTx = SubmittedTx & TxInclusion;

const NONCE_CODES = ['NONCE_REUSED', 'NONCE_GAP'];
const SESSION_CODES = ['SESSION_EXPIRED', 'UNAUTHENTICATED'];
const enc = encodeURIComponent;

/**
 * A connection to one MedLedger node as one identity: HTTP, sessions, nonces and
 * transactions. Holds its session token and next nonce in memory only; every method throws
 * ClientError (API refusals with the node's code and HTTP status).
 */
export class NodeConnection {
  readonly url: string;
  readonly keys: KeyBundle;
  /** This client's identity id (derived from the signing key unless given). */
  readonly id: string;
  private readonly fetchFn: typeof fetch;
  private readonly pollIntervalMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private node: NodeStatus | undefined;
  private session: Session | undefined;
  private signingIn: Promise<Session> | undefined;
  private nextNonce: number | undefined;
  private nonceLoad: Promise<void> | undefined;
  private submitQueue: Promise<unknown> = Promise.resolve();
  /** The trusted genesis, if the client was given one. */
  readonly trusted: TrustedGenesis | undefined;
  private readonly reader: VerifiedReader | undefined;

  constructor(opts: MedLedgerClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.keys = opts.keys;
    this.id = opts.id ?? idFromPublicKey(opts.keys.signing.publicKey);
    this.fetchFn = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.pollIntervalMs = opts.pollIntervalMs ?? 200;
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.trusted = opts.genesis;
    this.reader =
      opts.genesis === undefined
        ? undefined
        : new VerifiedReader(
            opts.genesis,
            // Patient metadata is proven only to those who may see it: the session says who asks.
            { post: (path, body) => this.post(path, body, { auth: true }), get: (path) => this.get(path) },
            { minHeight: opts.minHeight, onHeight: opts.onHeight },
          );
  }

  /**
   * The reader that proves state against the trusted genesis. Throws ClientError
   * `NO_TRUSTED_GENESIS` when the client was made without one: a caller about to encrypt
   * to a key or act on a fact must not fall back to the node's word.
   */
  verified(what: string): VerifiedReader {
    if (this.reader === undefined)
      refuse('NO_TRUSTED_GENESIS', `${what} needs a trusted genesis (the genesis file or its hash); this client has none`);
    return this.reader;
  }

  /** The highest height this client has verified a proof at (0 before any). */
  get verifiedHeight(): number {
    return this.reader?.highestHeight ?? 0;
  }

  // ---- HTTP ----------------------------------------------------------------------------

  /** GET a path under the node; `auth` sends the session token. Throws ClientError. */
  get(path: string, opts: { auth?: boolean } = {}): Promise<unknown> {
    return this.request({ method: 'GET', path }, opts.auth === true);
  }

  /** POST JSON to a path under the node; `auth` sends the session token. Throws ClientError. */
  post(path: string, body: unknown, opts: { auth?: boolean } = {}): Promise<unknown> {
    return this.request({ method: 'POST', path, json: body }, opts.auth === true);
  }

  // An authenticated call signs in when there is no session, and once more when the node
  // says the session ended (idle timeout, expiry, or a node restart that forgot it).
  protected async request(req: HttpRequest, auth: boolean): Promise<unknown> {
    if (!auth) return sendRequest(this.fetchFn, this.url, req);
    const session = this.session ?? (await this.signIn());
    try {
      return await sendRequest(this.fetchFn, this.url, { ...req, token: session.token });
    } catch (err) {
      if (!(hasClientCode(err, ...SESSION_CODES) && err.status === 401)) throw err;
      const fresh = this.session === session ? await this.signIn() : (this.session ?? (await this.signIn()));
      return sendRequest(this.fetchFn, this.url, { ...req, token: fresh.token });
    }
  }

  /** `GET /v1/status`. Throws ClientError. */
  async status(): Promise<NodeStatus> {
    const status = parseStatus(await this.get('/v1/status'));
    if (this.trusted !== undefined && status.chainId !== this.trusted.chainId)
      refuse('GENESIS_MISMATCH', `the node serves chain '${status.chainId}', not the trusted '${this.trusted.chainId}'`);
    this.node = status;
    return status;
  }

  /** `GET /v1/accounts/:publicKey` for this client's signing key. Throws ClientError. */
  async account(): Promise<Account> {
    return parseAccount(await this.get(`/v1/accounts/${this.keys.signing.publicKey}`));
  }

  /**
   * The identity `id` (any status): with a trusted genesis, read from the proven state
   * (`identity/<id>`), so a node cannot rename or re-key anyone a page names or a grant goes
   * to; without one, `GET /v1/identities/:id`. Throws ClientError (`IDENTITY_NOT_FOUND`, 404,
   * for an id the state proves absent; `STATE_PROOF_INVALID`; the reader's codes).
   */
  async identity(id: string): Promise<Identity> {
    if (this.reader === undefined) return parseIdentity(await this.get(`/v1/identities/${enc(id)}`));
    if (!/^[0-9a-f]{40}$/.test(id)) throw new ClientError('INVALID_ARGUMENT', 'an identity id is 20 bytes of lowercase hex');
    return parseIdentity((await provenIdentityAnyStatus(this.reader, id)).value, 'proven identity');
  }

  // Transactions are signed for the trusted chain when there is one, not the node's word.
  private async chainId(): Promise<string> {
    if (this.trusted !== undefined) return this.trusted.chainId;
    return (this.node ?? (await this.status())).chainId;
  }

  // ---- Sessions ------------------------------------------------------------------------

  /**
   * Open a session (docs/records.md "Gatekeeper API"): challenge, then an Ed25519 signature
   * over `"medledger/auth/v1\n"` ‖ JCS {chainId, node, challenge, publicKey}. Concurrent
   * callers share one sign-in. The token stays in memory. Throws ClientError.
   */
  signIn(): Promise<Session> {
    this.signingIn ??= this.openSession().finally(() => {
      this.signingIn = undefined;
    });
    return this.signingIn;
  }

  /**
   * End the session on the node (`DELETE /v1/auth/session`) and forget the token, so a
   * copied token stops working at once. Does nothing without a session; a node that cannot
   * be reached is not an error (the token is forgotten here, the node ends it when idle).
   * A later authenticated call signs in again.
   */
  async signOut(): Promise<void> {
    const pending = this.signingIn;
    if (pending !== undefined) await pending.catch(() => undefined);
    const session = this.session;
    this.session = undefined;
    if (session === undefined) return;
    try {
      await sendRequest(this.fetchFn, this.url, { method: 'DELETE', path: '/v1/auth/session', token: session.token });
    } catch (err) {
      if (!hasClientCode(err, 'NETWORK')) throw err;
    }
  }

  private async openSession(): Promise<Session> {
    const node = await this.status();
    const publicKey = this.keys.signing.publicKey;
    const answer = objectAt(await this.post('/v1/auth/challenge', { publicKey }), 'challenge');
    if (typeof answer.challenge !== 'string') throw new ClientError('MALFORMED_RESPONSE', 'challenge.challenge must be a string');
    const challenge = answer.challenge;
    const signature = signAuthChallenge(
      { chainId: node.chainId, node: node.publicKey, challenge, publicKey },
      this.keys.signing.privateKey,
    );
    const session = parseSession(await this.post('/v1/auth/session', { publicKey, challenge, signature }));
    this.session = session;
    return session;
  }

  // ---- Transactions --------------------------------------------------------------------

  // Nonces are fetched once and then counted here, so back-to-back submissions need no
  // round trip each; a nonce refusal means another client shares the key, so refetch.
  private async takeNonce(): Promise<number> {
    while (this.nextNonce === undefined) {
      this.nonceLoad ??= this.account()
        .then((a) => {
          this.nextNonce = a.nextNonce;
        })
        .finally(() => {
          this.nonceLoad = undefined;
        });
      await this.nonceLoad;
    }
    return this.nextNonce++;
  }

  /**
   * Sign `body` as a `kind` transaction with the next nonce and `POST /v1/txs`. On
   * NONCE_REUSED or NONCE_GAP it refetches the nonce and retries once. Throws ClientError
   * with the node's admission code (e.g. `UNAUTHORIZED`, `INVALID_BODY`).
   */
  async submit<K extends TxKindName>(kind: K, body: TxBodies[K]): Promise<SubmittedTx> {
    const chain = await this.chainId();
    const send = async (): Promise<SubmittedTx> => {
      const tx = buildTx({ chain, kind, signing: this.keys.signing, nonce: await this.takeNonce(), body });
      try {
        const answer = objectAt(await this.post('/v1/txs', tx), 'submission');
        if (typeof answer.hash !== 'string') throw new ClientError('MALFORMED_RESPONSE', 'submission.hash must be a string');
        return { hash: answer.hash, tx };
      } catch (err) {
        // The nonce was not used: count again from the node's view next time.
        this.nextNonce = undefined;
        throw err;
      }
    };
    const sendWithRetry = async (): Promise<SubmittedTx> => {
      try {
        return await send();
      } catch (err) {
        if (!hasClientCode(err, ...NONCE_CODES)) throw err;
        return send();
      }
    };
    // Concurrent callers (e.g. parallel record writes) are posted one at a time, in nonce
    // order: two in-flight requests could reach the node out of order, and the later nonce
    // would be refused as a gap. Waiting for commits stays concurrent.
    const queued = this.submitQueue.then(sendWithRetry);
    this.submitQueue = queued.catch(() => undefined);
    return queued;
  }

  /**
   * Poll `GET /v1/txs/:hash` until the transaction is committed (its block position and
   * proof) or rejected. Throws ClientError with the rejected tx's code and reason (status 0),
   * or `TX_TIMEOUT` after `timeoutMs`. An unknown hash is polled too (it may still be gossiping).
   */
  async waitForTx(hash: string, timeoutMs = 30_000): Promise<TxInclusion> {
    const deadline = this.now() + timeoutMs;
    for (;;) {
      let answer: Record<string, unknown> | undefined;
      try {
        answer = objectAt(await this.get(`/v1/txs/${enc(hash)}`), 'tx');
      } catch (err) {
        if (!hasClientCode(err, 'TX_NOT_FOUND')) throw err;
      }
      if (answer?.status === 'committed') return parseInclusion(answer);
      if (answer?.status === 'rejected') {
        const code = typeof answer.code === 'string' ? answer.code : 'TX_REJECTED';
        throw new ClientError(
          code,
          typeof answer.reason === 'string' && answer.reason !== '' ? answer.reason : `transaction ${hash} was rejected`,
        );
      }
      const left = deadline - this.now();
      if (left <= 0) throw new ClientError('TX_TIMEOUT', `transaction ${hash} was not committed within ${timeoutMs} ms`);
      await this.sleep(Math.min(this.pollIntervalMs, left));
    }
  }

  /**
   * `submit` then `waitForTx`, and check the returned inclusion proof against the signed
   * transaction (`BAD_PROOF` if it does not verify). Throws ClientError.
   */
  async submitAndWait<K extends TxKindName>(kind: K, body: TxBodies[K], timeoutMs?: number): Promise<CommittedTx> {
    const submitted = await this.submit(kind, body);
    const inclusion = await this.waitForTx(submitted.hash, timeoutMs);
    const { proof } = inclusion;
    if (proof.leafIndex !== inclusion.index || !verifyTxInclusion(submitted.tx, proof, proof.root)) {
      throw new ClientError('BAD_PROOF', `the inclusion proof of ${submitted.hash} does not verify`);
    }
    return { ...submitted, ...inclusion };
  }
}
