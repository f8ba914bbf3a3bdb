// An in-memory stand-in for one node's /v1 API, as a `fetch` function: it checks what the
// client sends (tx signatures, nonces, session signatures, vault hashes) the way
// docs/records.md says a node does, and commits each transaction at once in its own block.
// It applies only the effects the client tests need; it is no model of the ehr rules. Its
// state is laid out as the chain's (the keys the client proves) and proven the real way: a
// state tree, a header and a commit signed by its one genesis validator.
import { generateEncryptionKeyPair, generateSigningKeyPair, idFromPublicKey, sha256Hex, toHex, verifyEd25519 } from '@medledger/crypto';
import {
  appHashOf,
  type BlockHeader,
  blockHash,
  EMPTY_STATE_ROOT,
  type Genesis,
  MemoryStateTree,
  parseSignedTx,
  proveStateKey,
  resultsRootOf,
  type SignedTx,
  signVote,
  txHash,
  txInclusionProof,
  txRoot,
  updateStateTree,
  verifyTxSignature,
} from '@medledger/ledger';
import { authSignBytes } from '../auth.js';
import { stateKeys } from '../proven-facts.js';
import { recordListKeys } from '../record-list.js';
import { TrustedGenesis } from '../trust.js';
import type { ConsentGrantBody, RecordAnchorBody } from '../tx-builders.js';

interface StoredRecord {
  /** The anchor as the chain keeps it (ehr `RecordMeta`): who wrote it, when, and what superseded it. */
  meta: RecordAnchorBody & { status: string; author: string; anchoredAt: { height: number; time: number }; supersededBy: string | null };
  /** recipient label → envelope hash */
  envelopes: Map<string, string>;
}

interface Fail {
  status: number;
  code: string;
  message: string;
}

const fail = (status: number, code: string, message = code): Fail => ({ status, code, message });
const toBase64 = (bytes: Uint8Array) => btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(''));
const random = (n: number) => toHex(globalThis.crypto.getRandomValues(new Uint8Array(n)));

/** A grant as the chain keeps it (ehr policy.ts `Grant`): every scope list present and sorted. */
function stateGrant(g: ConsentGrantBody & { id: string; grantedBy?: string }) {
  const list = (x: string[] | undefined) => [...new Set(x ?? [])].sort();
  return {
    id: g.id,
    patient: g.patient,
    grantee: g.grantee,
    scope: { categories: list(g.scope.categories), resourceTypes: list(g.scope.resourceTypes), records: list(g.scope.records) },
    access: g.access ?? 'read',
    purpose: g.purpose,
    expiresAt: g.expiresAt ?? null,
    grantedBy: g.grantedBy ?? g.patient,
    grantedAt: { height: 1, time: 0 },
    revoked: null,
  };
}

export class FakeGatekeeper {
  readonly chainId = 'test-chain';
  readonly nodeKey = generateSigningKeyPair();
  /** The one validator emergency shares are sealed to (its key pair, so tests can open them). */
  readonly validatorEncryption = generateEncryptionKeyPair();
  readonly nonces = new Map<string, number>();
  readonly identities = new Map<string, Record<string, unknown>>();
  readonly vault = new Map<string, Uint8Array>();
  readonly records = new Map<string, StoredRecord>();
  readonly grants = new Map<string, ConsentGrantBody & { id: string; grantedBy: string }>();
  /** Accepted delegates by patient (pending ones are not recipients). */
  readonly delegates = new Map<string, Set<string>>();
  /** Committed entries a test places as they are (e.g. an emergency window), proven like the rest. */
  readonly extraState = new Map<string, string>();
  readonly pendingDelegates = new Map<string, Set<string>>();
  readonly txs = new Map<string, { tx: SignedTx; status: string; height?: number; code?: string; reason?: string }>();
  /** Every request, as `METHOD path`. */
  readonly requests: string[] = [];
  /** Every record read: who, which record, and the purpose asked for. */
  readonly reads: Array<{ accessor: string; record: string; purpose: string | null }> = [];
  /** Answer each new transaction's status as pending this many times before committing it. */
  pendingPolls = 0;
  /** The next admitted transaction is committed as rejected with this result. */
  rejectNext: { code: string; log: string } | undefined;
  /** The next submission is refused at admission with this error. */
  refuseNext: { status: number; code: string; message: string } | undefined;
  /** Leave `envelopeFor` out of record reads, as an older node might. */
  omitEnvelopeFor = false;
  private height = 0;
  private readonly challenges = new Set<string>();
  private readonly sessions = new Map<string, string>();
  private readonly polls = new Map<string, number>();

  /** The genesis of this fake chain: its one validator is the node key. */
  get genesis(): Genesis {
    return {
      chainId: this.chainId,
      genesisTime: 0,
      validators: [{ name: 'validator-0', publicKey: this.nodeKey.publicKey, encryptionKey: this.validatorEncryption.publicKey, power: 1 }],
      organizations: [],
      params: { maxBlockTxs: 1000, maxBlockBytes: 1_000_000, maxClockDriftMs: 10_000 },
    };
  }

  /** The genesis as a client pins it. */
  get trusted(): TrustedGenesis {
    return TrustedGenesis.fromDocument(this.genesis);
  }

  /** Register an identity directly, as genesis or an admin would (for staff). */
  addIdentity(publicKey: string, encryptionKey: string, role = 'clinician'): string {
    const id = idFromPublicKey(publicKey);
    this.identities.set(id, { id, role, publicKey, encryptionKey, status: 'active' });
    return id;
  }

  /** End every session, as an idle timeout would. */
  expireSessions(): void {
    this.sessions.clear();
  }

  /** Advance a key's nonce, as a second client sharing the key would. */
  bumpNonce(publicKey: string): void {
    this.nonces.set(publicKey, (this.nonces.get(publicKey) ?? 0) + 1);
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    this.requests.push(`${method} ${url.pathname}`);
    const headers = new Headers(init?.headers);
    let result: { status: number; body: unknown };
    try {
      result = this.route(method, url, headers, init?.body);
    } catch (err) {
      const f = err as Fail;
      if (typeof f.code !== 'string') throw err;
      result = { status: f.status, body: { error: { code: f.code, message: f.message } } };
    }
    if (result.status === 204) return new Response(null, { status: 204 });
    return new Response(JSON.stringify(result.body), { status: result.status, headers: { 'content-type': 'application/json' } });
  };

  private caller(headers: Headers): string {
    const auth = headers.get('authorization');
    if (auth === null) throw fail(401, 'UNAUTHENTICATED');
    const publicKey = this.sessions.get(auth.replace(/^Bearer /, ''));
    if (publicKey === undefined) throw fail(401, 'SESSION_EXPIRED');
    return idFromPublicKey(publicKey);
  }

  private json(body: unknown): Record<string, unknown> {
    return JSON.parse(String(body)) as Record<string, unknown>;
  }

  private route(method: string, url: URL, headers: Headers, body: unknown): { status: number; body: unknown } {
    const path = url.pathname;
    const ok = (b: unknown, status = 200) => ({ status, body: b });
    const on = (verb: string, re: RegExp) => (method === verb ? re.exec(path) : null);
    let m: RegExpExecArray | null;
    if (method === 'GET' && path === '/v1/status')
      return ok({ chainId: this.chainId, publicKey: this.nodeKey.publicKey, height: this.height });
    if (method === 'GET' && path === '/v1/genesis') return ok(this.genesis);
    if (method === 'GET' && path === '/v1/headers') {
      const from = Number(url.searchParams.get('from'));
      const limit = Number(url.searchParams.get('limit') ?? 100);
      this.freezeBelow(Math.max(1, this.height));
      const headers = this.chainHeaders.slice(from - 1, from - 1 + limit).map((header) => ({ header, commit: this.commitFor(header) }));
      return ok({ headers, next: null });
    }
    if (method === 'POST' && path === '/v1/state/proofs') {
      const keys = (this.json(body) as { keys: string[] }).keys;
      // As the node: the latest validator set is public, everything else asks who is asking.
      if (keys.some((k) => k !== 'gov/valset-latest')) this.caller(headers);
      return ok(this.prove(keys));
    }
    if (method === 'GET' && path === '/v1/emergency/params')
      return ok({
        threshold: 1,
        maxDurationMs: 14_400_000,
        validators: [
          { id: idFromPublicKey(this.nodeKey.publicKey), name: 'validator-0', encryptionKey: this.validatorEncryption.publicKey },
        ],
      });
    m = on('GET', /^\/v1\/accounts\/([0-9a-f]{64})$/);
    if (m) {
      const pk = m[1] as string;
      return ok({
        publicKey: pk,
        id: idFromPublicKey(pk),
        nonce: 0,
        nextNonce: this.nonces.get(pk) ?? 0,
        identity: this.identities.get(idFromPublicKey(pk)) ?? null,
      });
    }
    m = on('GET', /^\/v1\/identities\/(.+)$/);
    if (m) {
      const identity = this.identities.get(m[1] as string);
      if (identity === undefined) throw fail(404, 'IDENTITY_NOT_FOUND');
      return ok(identity);
    }
    if (method === 'POST' && path === '/v1/auth/challenge') {
      const challenge = random(32);
      this.challenges.add(challenge);
      return ok({ challenge, expiresAt: Date.now() + 60_000 });
    }
    if (method === 'POST' && path === '/v1/auth/session') {
      const { publicKey, challenge, signature } = this.json(body) as Record<string, string>;
      if (!this.challenges.delete(challenge as string)) throw fail(401, 'UNAUTHENTICATED', 'unknown challenge');
      const bytes = authSignBytes({
        chainId: this.chainId,
        node: this.nodeKey.publicKey,
        challenge: challenge as string,
        publicKey: publicKey as string,
      });
      if (!verifyEd25519(publicKey as string, bytes, signature as string)) throw fail(401, 'UNAUTHENTICATED', 'bad signature');
      const token = random(16);
      this.sessions.set(token, publicKey as string);
      return ok({
        token,
        expiresAt: Date.now() + 3_600_000,
        idleTimeoutMs: 600_000,
        identity: this.identities.get(idFromPublicKey(publicKey as string)),
      });
    }
    if (method === 'DELETE' && path === '/v1/auth/session') {
      this.sessions.delete((headers.get('authorization') ?? '').replace(/^Bearer /, ''));
      return ok(undefined, 204);
    }
    if (method === 'POST' && path === '/v1/txs') return ok(this.admit(this.json(body)), 202);
    m = on('GET', /^\/v1\/txs\/(.+)$/);
    if (m) return ok(this.txStatus(m[1] as string));
    m = on('PUT', /^\/v1\/vault\/(.+)$/);
    if (m) {
      this.caller(headers);
      if (headers.get('content-type') !== 'application/octet-stream') throw fail(415, 'UNSUPPORTED_MEDIA_TYPE');
      const bytes = new Uint8Array(body as Uint8Array);
      if (sha256Hex(bytes) !== m[1]) throw fail(400, 'HASH_MISMATCH');
      const held = this.vault.has(m[1] as string);
      this.vault.set(m[1] as string, bytes);
      return ok({ hash: m[1], size: bytes.length }, held ? 200 : 201);
    }
    m = on('GET', /^\/v1\/records\/(.+)$/);
    if (m) return ok(this.readRecord(this.caller(headers), m[1] as string, url));
    m = on('GET', /^\/v1\/patients\/([0-9a-f]{40})\/(records|grants|recipients|access-log)$/);
    if (m) {
      this.caller(headers);
      const patient = m[1] as string;
      if (m[2] === 'records')
        return ok({
          records: [...this.records.values()]
            .filter((r) => r.meta.patient === patient)
            .map((r) => ({ ...r.meta, envelopes: Object.fromEntries(r.envelopes) })),
          next: null,
          count: [...this.records.values()].filter((r) => r.meta.patient === patient).length,
        });
      // Every list fits in one page here: `next` is null.
      if (m[2] === 'grants')
        return ok({ grants: [...this.grants.values()].filter((g) => g.patient === patient).map(stateGrant), next: null });
      if (m[2] === 'access-log') return ok({ emergency: [], emergencyNext: null, emergencyCount: 0, events: [], next: null, count: 0 });
      return ok({ recipients: this.recipientsOf(patient) });
    }
    if (method === 'GET' && path === '/v1/me/grants') {
      const me = this.caller(headers);
      return ok({ grants: [...this.grants.values()].filter((g) => g.grantee === me).map(stateGrant), next: null });
    }
    throw fail(404, 'NOT_FOUND', `no route ${method} ${path}`);
  }

  /** The fake's state under the chain's keys (ehr state.ts), as JSON strings. */
  private stateValues(): Map<string, string> {
    const out = new Map<string, string>(this.extraState);
    for (const [id, identity] of this.identities) out.set(stateKeys.identity(id), JSON.stringify(identity));
    for (const [patient, ds] of this.delegates) {
      if (ds.size > 0) out.set(stateKeys.acceptedDelegates(patient), JSON.stringify([...ds].sort()));
      for (const d of ds) out.set(stateKeys.delegate(patient, d), JSON.stringify({ since: { height: 1, time: 0 } }));
    }
    const grantIds = new Map<string, string[]>();
    for (const g of this.grants.values()) {
      out.set(stateKeys.grant(g.id), JSON.stringify(stateGrant(g)));
      const k = stateKeys.grantsOf(g.patient, g.grantee);
      grantIds.set(k, [...(grantIds.get(k) ?? []), g.id]);
      const grantees = new Set<string>(JSON.parse(out.get(stateKeys.grantees(g.patient)) ?? '[]'));
      out.set(stateKeys.grantees(g.patient), JSON.stringify([...grantees.add(g.grantee)].sort()));
    }
    for (const [k, ids] of grantIds) out.set(k, JSON.stringify(ids));
    // Each patient's records as the chain's dense list, in anchor order (record-list.ts).
    const counts = new Map<string, number>();
    for (const [id, r] of this.records) {
      const n = counts.get(r.meta.patient) ?? 0;
      out.set(recordListKeys.entry(r.meta.patient, n), id);
      counts.set(r.meta.patient, n + 1);
    }
    for (const [patient, n] of counts) out.set(recordListKeys.count(patient), String(n));
    for (const [id, r] of this.records) {
      const { record: _r, envelopes: _e, status, ...meta } = r.meta;
      out.set(
        stateKeys.record(id),
        JSON.stringify({
          id,
          ...meta,
          envelopes: Object.fromEntries(r.envelopes),
          erased: status === 'erased' ? { height: 1, time: 0, by: meta.patient } : null,
        }),
      );
    }
    return out;
  }

  /**
   * The headers below the current height, hash-linked as a light client walks them (GET
   * /v1/headers); a height's header is the last one a proof was served under, or a filler.
   */
  private readonly chainHeaders: BlockHeader[] = [];
  private latest: BlockHeader | undefined;

  private freezeBelow(height: number): void {
    while (this.chainHeaders.length < height - 1) {
      const h = this.chainHeaders.length + 1;
      this.chainHeaders.push(this.latest?.height === h ? this.latest : this.headerAt(h, '00'.repeat(32)));
    }
  }

  private headerAt(height: number, appHash: string): BlockHeader {
    const zero = '00'.repeat(32);
    const before = this.chainHeaders[height - 2];
    return {
      chainId: this.chainId,
      height,
      time: Date.now(),
      prevHash: before === undefined ? zero : blockHash(before),
      txRoot: zero,
      appHash,
      proposer: this.nodeKey.publicKey,
      lastCommitHash: zero,
    };
  }

  private commitFor(header: BlockHeader) {
    const hash = blockHash(header);
    const sig = signVote(this.chainId, { type: 'precommit', height: header.height, round: 0, blockHash: hash }, this.nodeKey.privateKey);
    return { height: header.height, round: 0, blockHash: hash, signatures: [{ validator: this.nodeKey.publicKey, sig }] };
  }

  /** `POST /v1/state/proofs`: the values of `keys` with proofs, under a header and commit this fake's validator signs. */
  private prove(keys: string[]): unknown {
    const values = this.stateValues();
    const tree = new MemoryStateTree();
    tree.apply(
      updateStateTree(
        tree,
        EMPTY_STATE_ROOT,
        [...values].map(([key, value]) => ({ key, value })),
      ),
    );
    const resultsRoot = resultsRootOf([]);
    const height = Math.max(1, this.height);
    this.freezeBelow(height);
    const header = this.headerAt(height, appHashOf(tree.root, resultsRoot));
    this.latest = header;
    return {
      height,
      header,
      commit: this.commitFor(header),
      stateRoot: tree.root,
      resultsRoot,
      entries: [...new Set(keys)].map((key) => ({ key, value: values.get(key) ?? null, proof: proveStateKey(tree, tree.root, key).proof })),
    };
  }

  private recipientsOf(patient: string): unknown[] {
    const p = this.identities.get(patient);
    if (p === undefined) throw fail(403, 'ACCESS_DENIED');
    const out = [{ to: patient, encryptionKey: p.encryptionKey, why: 'patient' }];
    if (typeof p.emergencyKey === 'string') out.push({ to: 'emergency', encryptionKey: p.emergencyKey, why: 'emergency' });
    for (const d of this.delegates.get(patient) ?? [])
      out.push({ to: d, encryptionKey: this.identities.get(d)?.encryptionKey, why: 'delegate' });
    return out;
  }

  private readRecord(accessor: string, id: string, url: URL): unknown {
    this.reads.push({ accessor, record: id, purpose: url.searchParams.get('purpose') });
    const stored = this.records.get(id);
    if (stored === undefined) throw fail(403, 'ACCESS_DENIED');
    if (stored.meta.status === 'erased') throw fail(410, 'RECORD_ERASED');
    const envelopeHash = stored.envelopes.get(accessor);
    if (envelopeHash === undefined) throw fail(403, 'ACCESS_DENIED');
    const ciphertext = toBase64(this.vault.get(stored.meta.contentHash) as Uint8Array);
    const envelope = JSON.parse(new TextDecoder().decode(this.vault.get(envelopeHash)));
    return {
      record: stored.meta,
      ciphertext,
      envelope,
      ...(this.omitEnvelopeFor ? {} : { envelopeFor: accessor }),
      event: { id: random(8) },
    };
  }

  private admit(raw: unknown): { hash: string; status: 'pending' } {
    let tx: SignedTx;
    try {
      tx = parseSignedTx(raw);
    } catch (err) {
      throw fail(400, 'MALFORMED_TX', (err as Error).message);
    }
    if (this.refuseNext !== undefined) {
      const refusal = this.refuseNext;
      this.refuseNext = undefined;
      throw refusal;
    }
    if (tx.chain !== this.chainId) throw fail(400, 'WRONG_CHAIN');
    if (!verifyTxSignature(tx)) throw fail(400, 'BAD_SIGNATURE');
    const expected = this.nonces.get(tx.signer) ?? 0;
    if (tx.nonce < expected) throw fail(409, 'NONCE_REUSED', `nonce ${tx.nonce} is used; next is ${expected}`);
    if (tx.nonce > expected) throw fail(409, 'NONCE_GAP', `nonce ${tx.nonce} skips ahead of ${expected}`);
    this.nonces.set(tx.signer, expected + 1);
    const hash = txHash(tx);
    this.height++;
    if (this.rejectNext !== undefined) {
      this.txs.set(hash, { tx, status: 'rejected', height: this.height, code: this.rejectNext.code, reason: this.rejectNext.log });
      this.rejectNext = undefined;
    } else {
      this.apply(tx, hash);
      this.txs.set(hash, { tx, status: 'committed', height: this.height });
    }
    return { hash, status: 'pending' };
  }

  private apply(tx: SignedTx, hash: string): void {
    const signerId = idFromPublicKey(tx.signer);
    const b = tx.body as Record<string, unknown>;
    if (tx.kind === 'identity.register') {
      this.identities.set(signerId, { id: signerId, role: 'patient', publicKey: tx.signer, status: 'active', ...b });
    } else if (tx.kind === 'record.anchor') {
      const body = b as unknown as RecordAnchorBody;
      this.records.set(body.record, {
        meta: { ...body, status: 'active', author: signerId, anchoredAt: { height: this.height, time: 0 }, supersededBy: null },
        envelopes: new Map(body.envelopes.map((e) => [e.to, e.hash])),
      });
    } else if (tx.kind === 'consent.grant') {
      const body = b as unknown as ConsentGrantBody;
      const id = hash.slice(0, 32);
      this.grants.set(id, { id, ...body, grantedBy: signerId });
      for (const e of body.envelopes ?? []) this.records.get(e.record)?.envelopes.set(body.grantee, e.hash);
    } else if (tx.kind === 'record.share') {
      for (const e of b.envelopes as Array<{ record: string; to: string; hash: string }>)
        this.records.get(e.record)?.envelopes.set(e.to, e.hash);
    } else if (tx.kind === 'delegate.set') {
      const delegate = b.delegate as string;
      this.pendingDelegates.set(signerId, new Set([...(this.pendingDelegates.get(signerId) ?? []), delegate]));
    } else if (tx.kind === 'delegate.accept') {
      const patient = b.patient as string;
      if (this.pendingDelegates.get(patient)?.delete(signerId))
        this.delegates.set(patient, new Set([...(this.delegates.get(patient) ?? []), signerId]));
    } else if (tx.kind === 'record.erase') {
      const r = this.records.get(b.record as string);
      if (r !== undefined) r.meta.status = 'erased';
    } else if (tx.kind === 'consent.revoke') {
      this.grants.delete(b.grant as string);
    }
  }

  private txStatus(hash: string): unknown {
    const entry = this.txs.get(hash);
    if (entry === undefined) throw fail(404, 'TX_NOT_FOUND');
    const polled = (this.polls.get(hash) ?? 0) + 1;
    this.polls.set(hash, polled);
    if (polled <= this.pendingPolls) return { hash, status: 'pending' };
    if (entry.status === 'rejected') return { hash, status: 'rejected', code: entry.code, reason: entry.reason };
    const root = txRoot([entry.tx]);
    return {
      hash,
      status: 'committed',
      height: entry.height,
      index: 0,
      blockHash: sha256Hex(new TextEncoder().encode(`block ${entry.height}`)),
      proof: { leafIndex: 0, treeSize: 1, root, path: txInclusionProof([entry.tx], 0) },
    };
  }
}
