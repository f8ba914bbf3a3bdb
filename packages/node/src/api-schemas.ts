// The /v1 request schemas (TypeBox → JSON Schema): Fastify validates every request against
// them and @fastify/swagger builds /v1/openapi.json from the same objects, so the document
// cannot drift from what the API accepts. Handlers still apply the ledger's own checks.
import { type TSchema, Type } from '@sinclair/typebox';
import { PageQuerySchema } from './paging.js';
import * as S from './shape-schemas.js';

export const hex = (bytes: number, description: string) =>
  Type.String({ pattern: `^[0-9a-f]{${bytes * 2}}$`, description: `${description} (${bytes}-byte lowercase hex)` });

export const TxHash = hex(32, 'transaction hash: SHA-256 of the signed canonical transaction');
export const PublicKey = hex(32, 'Ed25519 public key');
export const IdentityId = hex(20, 'identity id: first 20 bytes of SHA-256 of the registration key');
export const RecordId = hex(16, 'record id');
export const GrantId = hex(16, 'grant id: first 16 bytes of the consent.grant transaction hash');
export const ObjectHash = hex(32, 'vault object hash: SHA-256 of its bytes');
const Purpose = Type.Union(
  ['treatment', 'payment', 'operations', 'research', 'patient-request'].map((p) => Type.Literal(p)),
  { description: 'purpose of use (HL7 PurposeOfUse TREAT, HPAYMT, HOPERAT, HRESCH, PATRQT)' },
);

/** A signed transaction (DESIGN §4); its signature and rules are checked after the schema. */
export const SignedTxSchema = Type.Object(
  {
    v: Type.Literal(1),
    chain: Type.String({ minLength: 1, maxLength: 64, description: 'chain id from genesis' }),
    kind: Type.String({ pattern: '^[a-z]+(\\.[a-z_]+)+$', maxLength: 64, description: "transaction kind, e.g. 'record.anchor'" }),
    signer: PublicKey,
    nonce: Type.Integer({ minimum: 0, description: "the signer's next nonce" }),
    body: Type.Object(
      {},
      { additionalProperties: true, description: 'kind-specific body (docs/records.md, docs/insurance.md, docs/medicines.md)' },
    ),
    sig: hex(64, 'Ed25519 signature over the domain tag and the canonical envelope'),
  },
  { additionalProperties: false, $id: 'SignedTx', title: 'SignedTx' },
);

/** `{error: {code, message}}`, the shape of every refusal. */
export const ErrorSchema = Type.Object(
  { error: Type.Object({ code: Type.String({ description: 'stable error code' }), message: Type.String() }) },
  { $id: 'Error', title: 'Error' },
);

type Security = Array<{ [scheme: string]: string[] }>;
export const bearer: Security = [{ session: [] }];
/** A session when one is sent, none needed otherwise (public keys of the proven state routes). */
export const optionalBearer: Security = [{ session: [] }, {}];
/** A state key as state-api.ts accepts it: 1–512 printable ASCII characters, no space. */
const StateKey = Type.String({ pattern: '^[\\x21-\\x7e]{1,512}$', description: "state key, e.g. 'identity/<id>'" });

interface RouteSchema {
  summary: string;
  tags: string[];
  description?: string;
  params?: TSchema;
  querystring?: TSchema;
  body?: TSchema;
  security?: Security;
  consumes?: string[];
  /** Every success status the route answers, with its body (none: no content, as 204). */
  ok: { [status: number]: Success };
}

/** A success answer as the OpenAPI document shows it. */
export interface Success {
  description: string;
  body?: TSchema;
}
export const answer = (description: string, body?: TSchema): Success => ({ description, ...(body === undefined ? {} : { body }) });

/** The route schema's key that carries its success answers to the document (see `openApiInfo.transform`). */
const DOC_SUCCESS = 'x-medledger-success';

// Every route documents its refusals with the one error shape. Its success answers reach only
// the OpenAPI document (the swagger transform below adds them): were they in `response`,
// Fastify would serialise each 2xx body through its schema and drop any field it does not list.
const errorResponses = {
  '4xx': { description: 'refused: {error: {code, message}} with a stable code', $ref: 'Error#' },
  '5xx': { description: 'node error or object unavailable: {error: {code, message}}', $ref: 'Error#' },
};
export const route = ({ ok, ...s }: RouteSchema) => ({ ...s, response: errorResponses, [DOC_SUCCESS]: ok });

/** The success responses of a route schema, as @fastify/swagger reads `response` entries. */
function successResponses(ok: { [status: number]: Success } | undefined): Record<string, object> {
  const out: Record<string, object> = {};
  for (const [status, s] of Object.entries(ok ?? {}))
    out[status] = s.body === undefined ? { type: 'null', description: s.description } : { ...s.body, description: s.description };
  return out;
}
// Every list takes `limit` and `cursor` and answers its items with `next` (null at the end).
const paged = `Paged: at most \`limit\` items (default 100, at most 500) and \`next\`, the cursor of the next page, null at the end.`;
const pageQuery = (extra: Record<string, TSchema> = {}) => Type.Object({ ...PageQuerySchema, ...extra });

const Pending = Type.Object({ hash: TxHash, status: Type.Literal('pending') }, { title: 'Admitted' });
const Refused = Type.Object({ status: Type.Literal('refused'), error: ErrorSchema.properties.error }, { title: 'Refused' });
const TxStatus = Type.Object(
  {
    hash: TxHash,
    status: Type.Union([Type.Literal('pending'), Type.Literal('committed'), Type.Literal('rejected')]),
    height: Type.Optional(S.Count),
    index: Type.Optional(S.Count),
    blockHash: Type.Optional(S.Hash),
    code: Type.Optional(Type.String({ description: 'why it was rejected: a stable error code' })),
    reason: Type.Optional(Type.String()),
    proof: Type.Optional(S.InclusionProof),
    tx: Type.Optional(Type.Ref(SignedTxSchema)),
  },
  { title: 'TxStatus' },
);
const OwnTx = Type.Object({ index: S.Count, tx: Type.Ref(SignedTxSchema), result: S.TxResult });
const Bodies = Type.Union([Type.Literal('full'), Type.Literal('withheld')]);
const Leaves = Type.Array(S.Hash, { description: "each transaction's RFC 9162 leaf hash" });
const OwnNote = 'the transactions the caller may see, when the bodies are withheld';
/** A block of the embedded engine (chain-view.ts). */
const EmbeddedBlock = Type.Object(
  {
    hash: S.Hash,
    block: Type.Object({
      header: S.Header,
      lastCommit: Type.Optional(S.nullable(S.Commit)),
      txs: Type.Optional(Type.Array(Type.Ref(SignedTxSchema))),
    }),
    commit: S.Commit,
    bodies: Bodies,
    leaves: Leaves,
    results: Type.Optional(Type.Array(S.TxResult)),
    own: Type.Optional(Type.Array(OwnTx, { description: OwnNote })),
  },
  { title: 'Block' },
);
/** A block under CometBFT: CometBFT's own signed header and commit (abci/comet-blocks.ts, docs/cometbft.md). */
const CometBlock = Type.Object(
  {
    engine: Type.Literal('cometbft'),
    hash: S.Hash,
    block: Type.Object({
      header: Type.Object({}, { description: "CometBFT's header, as its RPC gives it" }),
      txs: Type.Optional(Type.Array(Type.Ref(SignedTxSchema))),
    }),
    commit: Type.Object({}, { description: "CometBFT's commit, as its RPC gives it" }),
    bodies: Bodies,
    leaves: Leaves,
    results: Type.Optional(Type.Array(S.nullable(S.TxResult))),
    own: Type.Optional(
      Type.Array(Type.Object({ index: S.Count, tx: Type.Ref(SignedTxSchema), result: S.nullable(S.TxResult) }), { description: OwnNote }),
    ),
  },
  { title: 'CometBlock' },
);
const BlockView = Type.Union([EmbeddedBlock, CometBlock]);
const Session = Type.Object({ token: Type.String(), expiresAt: S.Ms, idleTimeoutMs: S.Count, identity: S.Identity }, { title: 'Session' });
const Recipient = Type.Object({
  to: Type.String({ description: 'identity id, or `emergency`' }),
  why: Type.String(),
  encryptionKey: PublicKey,
});
const LogCount = Type.Integer({ minimum: 0, description: 'how many events the list held when read (a client proves the page against it)' });
const Stored = Type.Object({ hash: ObjectHash, size: S.Count });
const DirectoryEntry = Type.Object({
  id: IdentityId,
  name: Type.String(),
  role: Type.String(),
  org: Type.Optional(IdentityId),
  orgName: Type.Optional(Type.String()),
  orgKind: Type.Optional(Type.String()),
});
const KeyOf = Type.Object({ id: IdentityId, encryptionKey: PublicKey });
const WindowPage = (extra: Record<string, TSchema> = {}) => S.page('windows', S.EmergencyWindow, extra);
const GrantWithGrantee = Type.Object({ ...S.Grant.properties, granteeIdentity: S.nullable(S.PublicIdentity) }, { title: 'PatientGrant' });

/** Route schemas by name; api.ts and records-api.ts pass them as each route's `schema`. */
export const schemas = {
  submitTx: route({
    ok: { 202: answer('admitted to the mempool', Pending) },
    summary: 'Submit a signed transaction',
    description: 'Admitted to the mempool (202 {hash}) or refused with a stable code.',
    tags: ['transactions'],
    body: Type.Ref(SignedTxSchema),
  }),
  submitBatch: route({
    ok: {
      200: answer(
        'one result per transaction, in order: admitted or refused',
        Type.Object({ results: Type.Array(Type.Union([Pending, Refused])) }),
      ),
    },
    summary: 'Submit up to 500 signed transactions',
    tags: ['transactions'],
    body: Type.Object({ txs: Type.Array(Type.Unknown(), { maxItems: 500 }) }),
  }),
  txStatus: route({
    ok: { 200: answer('the transaction’s status', TxStatus) },
    summary: 'Transaction status: pending, committed (height, index, RFC 9162 inclusion proof) or rejected',
    description:
      'Anyone who can name the hash gets its status and proof. The signed transaction (`tx`) is added only for a signed-in party to it (its signer, or the patient it names) and for consortium members and auditors; a prescription transaction only for validators and its parties (docs/records.md "Who sees which metadata").',
    tags: ['transactions'],
    params: Type.Object({ hash: TxHash }),
  }),
  block: route({
    ok: { 200: answer('the block as the caller may see it', BlockView) },
    summary: 'A committed block with its commit (precommit signatures) and each transaction’s Merkle leaf hash',
    description:
      'Consortium members (validators, organizations and their staff) and auditors get the full block and results (`bodies: "full"`), unless it holds a prescription transaction they are no party to (then it comes withheld, with the rest in `own`). Anyone else gets the header, the last commit, the commit and the leaf hashes (`bodies: "withheld"`), plus, when signed in, the transactions they are a party to (`own`). A session token, when sent, must be valid.',
    tags: ['chain'],
    params: Type.Object({ height: Type.String({ pattern: '^(latest|[1-9][0-9]{0,15})$', description: "block height, or 'latest'" }) }),
  }),
  headers: route({
    ok: {
      200: answer(
        'headers in height order',
        Type.Object({
          headers: Type.Array(
            Type.Union([
              Type.Object({ header: S.Header, commit: S.Commit, nextValidators: Type.Optional(Type.Array(S.Validator)) }),
              // Under CometBFT: its header, and its commit only where the next validator set differs.
              Type.Object({
                header: Type.Object({ next_validators_hash: Type.String(), validators_hash: Type.String() }),
                commit: Type.Optional(Type.Object({})),
                nextValidators: Type.Optional(Type.Array(S.Validator)),
              }),
            ]),
          ),
          next: S.nullable(Type.Integer({ minimum: 1, description: 'the height to ask from next; null at the tip' })),
        }),
      ),
    },
    summary: 'Committed block headers with their commits, in height order, for light clients that follow validator-set changes',
    description:
      "Public. Up to `limit` (default and most 100) headers from height `from`, each with the commit that finalised it and, where the header names a different validator set for the next height, that set (`nextValidators`, checked by the client against the header's `nextValidatorsHash`). `next` is the height to ask from next, or null at the tip (docs/light-client.md). On a chain whose genesis names CometBFT, the headers are CometBFT's, with a commit only where `next_validators_hash` differs from `validators_hash` (docs/cometbft.md).",
    tags: ['chain'],
    querystring: Type.Object({
      from: Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: 'first height' }),
      limit: Type.Optional(Type.String({ pattern: '^([1-9][0-9]?|100)$', description: 'most headers, 1 to 100 (default 100)' })),
    }),
  }),
  status: route({
    ok: {
      200: answer(
        'the node’s view of the chain',
        Type.Object({
          chainId: Type.String(),
          engine: Type.Union([Type.Literal('embedded'), Type.Literal('cometbft')]),
          nodeId: S.Id20,
          publicKey: PublicKey,
          height: S.Count,
          lastBlockHash: S.Hash,
          lastBlockTime: S.nullable(S.Ms),
          appHash: S.Hash,
          validators: Type.Array(S.Validator),
          peers: Type.Array(Type.Unknown()),
          mempool: Type.Object({ txs: S.Count }),
        }),
      ),
    },
    summary: 'Node status: chain id, node id, height, last block hash, validators, peers',
    tags: ['chain'],
  }),
  genesis: route({
    ok: {
      200: answer(
        'the genesis document',
        Type.Object({
          chainId: Type.String(),
          genesisTime: S.Ms,
          validators: Type.Array(Type.Object({ publicKey: PublicKey, encryptionKey: PublicKey, power: S.Count })),
          organizations: Type.Array(Type.Object({ name: Type.String(), kind: Type.String(), adminKey: PublicKey })),
          params: Type.Object({ maxBlockTxs: S.Count, maxBlockBytes: S.Count, maxClockDriftMs: S.Count }),
        }),
      ),
    },
    summary: "The chain's genesis document",
    description:
      'Public. A client pinned to a genesis hash fetches the document here and checks that the SHA-256 of its canonical JSON (RFC 8785) is the hash it trusts.',
    tags: ['chain'],
  }),
  account: route({
    ok: {
      200: answer(
        'the key’s nonces and identity',
        Type.Object({ publicKey: PublicKey, id: IdentityId, nonce: S.Count, nextNonce: S.Count, identity: S.nullable(S.Identity) }),
      ),
    },
    summary: 'Nonces and identity of a signing key',
    tags: ['identities'],
    params: Type.Object({ publicKey: PublicKey }),
  }),
  identity: route({
    ok: { 200: answer('the identity', S.Identity) },
    summary: 'A registered identity',
    tags: ['identities'],
    params: Type.Object({ id: IdentityId }),
  }),
  challenge: route({
    ok: { 200: answer('a challenge to sign', Type.Object({ challenge: hex(32, 'the challenge'), expiresAt: S.Ms })) },
    summary: 'Ask for a sign-in challenge (single use, 60 s)',
    tags: ['sessions'],
    body: Type.Object({ publicKey: PublicKey }),
  }),
  openSession: route({
    ok: { 200: answer('a session', Session) },
    summary: 'Exchange a signed challenge for a session token',
    description: 'signature: Ed25519 over "medledger/auth/v1\\n" ‖ JCS {chainId, node, challenge, publicKey}.',
    tags: ['sessions'],
    body: Type.Object({ publicKey: PublicKey, challenge: hex(32, 'the challenge'), signature: hex(64, 'Ed25519 signature') }),
  }),
  closeSession: route({
    ok: { 204: answer('signed out: the token stops working at once') },
    summary: 'Sign out',
    tags: ['sessions'],
    // Idempotent: the token sent, if any, stops working; without one there is nothing to end.
    security: optionalBearer,
  }),
  putObject: route({
    ok: { 201: answer('stored', Stored), 200: answer('already stored', Stored) },
    summary: 'Upload a vault object (ciphertext or key envelope) under its SHA-256',
    tags: ['records'],
    params: Type.Object({ hash: ObjectHash }),
    consumes: ['application/octet-stream'],
    security: bearer,
  }),
  readRecord: route({
    ok: {
      200: answer(
        'the record, its ciphertext and the caller’s key envelope',
        Type.Object({
          record: S.Record,
          ciphertext: Type.String({ description: 'base64 AES-256-GCM ciphertext' }),
          envelope: Type.Object({}, { description: 'the key envelope sealed to `envelopeFor`' }),
          envelopeFor: Type.String({ description: 'identity id, or `emergency`' }),
          event: Type.String({ description: 'the id of the access event this read is logged as' }),
        }),
      ),
    },
    summary: "Read a record: metadata, ciphertext and the caller's key envelope (the read is logged on chain)",
    tags: ['records'],
    params: Type.Object({ id: RecordId }),
    querystring: Type.Object({ purpose: Type.Optional(Purpose) }),
    security: bearer,
  }),
  patientRecords: route({
    ok: {
      200: answer(
        'a page of records',
        S.page('records', S.Record, {
          count: Type.Optional(
            Type.Integer({ minimum: 0, description: 'for the patient and delegates: how many records the patient has' }),
          ),
        }),
      ),
    },
    summary: "A patient's records the caller may see: {records, next}",
    description: paged,
    tags: ['records'],
    params: Type.Object({ id: IdentityId }),
    querystring: pageQuery(),
    security: bearer,
  }),
  patientGrants: route({
    ok: { 200: answer('a page of grants', S.page('grants', GrantWithGrantee)) },
    summary: "A patient's grants (patient and delegates): {grants, next}",
    description: paged,
    tags: ['consent'],
    params: Type.Object({ id: IdentityId }),
    querystring: pageQuery({ all: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])) }),
    security: bearer,
  }),
  accessLog: route({
    ok: {
      200: answer(
        'a page of the log, and the first page of its emergency reads',
        S.page('events', S.AccessEvent, {
          count: LogCount,
          emergency: Type.Array(S.AccessEvent),
          emergencyNext: S.Next,
          emergencyCount: LogCount,
        }),
      ),
    },
    summary: "A patient's access log, newest first (patient and delegates): {emergency, emergencyNext, events, next}",
    description: `${paged} \`events\` pages the whole log; \`emergency\` is always the first page of the emergency reads alone (page on with /access-log/emergency and \`emergencyNext\`). Repeated denials of one record by one accessor for one reason in one hour are one event with a \`count\`.`,
    tags: ['audit'],
    params: Type.Object({ id: IdentityId }),
    querystring: pageQuery(),
    security: bearer,
  }),
  emergencyAccessLog: route({
    ok: { 200: answer('a page of emergency reads', S.page('events', S.AccessEvent, { count: LogCount })) },
    summary: "A patient's emergency reads alone, newest first (patient and delegates): {events, next}",
    description: paged,
    tags: ['audit'],
    params: Type.Object({ id: IdentityId }),
    querystring: pageQuery(),
    security: bearer,
  }),
  recipients: route({
    ok: { 200: answer('who to seal the record to', Type.Object({ recipients: Type.Array(Recipient) })) },
    summary: 'Who a new record of this category and type must be sealed to',
    tags: ['records'],
    params: Type.Object({ id: IdentityId }),
    querystring: Type.Object({ category: Type.String(), resourceType: Type.String() }),
    security: bearer,
  }),
  myGrants: route({
    ok: { 200: answer('a page of grants', S.page('grants', S.Grant)) },
    summary: "Grants naming the caller or the caller's organization: {grants, next}",
    description: paged,
    tags: ['consent'],
    querystring: pageQuery(),
    security: bearer,
  }),
  patientDelegates: route({
    ok: { 200: answer('a page of delegations', S.page('delegates', S.Delegation)) },
    summary:
      "A patient's delegations with their status, pending (invited, not yet accepted) or accepted: the patient and accepted delegates see all, an invited delegate their own; paged by `cursor`",
    tags: ['consent'],
    params: Type.Object({ id: IdentityId }),
    querystring: pageQuery(),
    security: bearer,
  }),
  myDelegations: route({
    ok: { 200: answer('a page of delegations', S.page('delegates', S.Delegation)) },
    summary: 'The patients who named the caller as their delegate, pending or accepted; paged by `cursor`',
    tags: ['consent'],
    querystring: pageQuery(),
    security: bearer,
  }),
  grant: route({
    ok: { 200: answer('the grant', S.Grant) },
    summary: 'One grant (patient, delegates, grantee)',
    tags: ['consent'],
    params: Type.Object({ id: GrantId }),
    security: bearer,
  }),
  stateProof: route({
    ok: { 200: answer('the proven value', S.ProvenState) },
    summary:
      'A state key’s committed value with a proof against the tip’s state root, the tip header and commit (docs/api.md, proven state)',
    description:
      'Public keys (identities, signing keys, nonces, validator set, emergency parameters) need no session; a patient’s metadata is proven only to those who may see it.',
    tags: ['state'],
    querystring: Type.Object({ key: StateKey }),
    security: optionalBearer,
  }),
  stateProofs: route({
    ok: { 200: answer('the proven values', S.ProvenState) },
    summary: 'Several state keys proven at once against the same tip (at most 256 keys)',
    tags: ['state'],
    body: Type.Object(
      { keys: Type.Array(StateKey, { minItems: 1, maxItems: 256, description: 'state keys' }) },
      { additionalProperties: false },
    ),
    security: optionalBearer,
  }),
  emergencyParams: route({
    ok: {
      200: answer(
        'the parameters',
        Type.Object({
          threshold: S.Count,
          maxDurationMs: S.Count,
          validators: Type.Array(Type.Object({ id: IdentityId, name: S.nullable(Type.String()), encryptionKey: PublicKey })),
        }),
      ),
    },
    summary: 'Emergency access: the share threshold, the longest window, and each validator’s encryption key',
    tags: ['emergency'],
  }),
  emergencyWindow: route({
    ok: { 200: answer('the window', S.EmergencyWindow) },
    summary:
      'One emergency window with its commitments and the shares posted so far (its clinician, the patient, delegates, the organization’s reviewers)',
    tags: ['emergency'],
    params: Type.Object({ id: hex(16, 'window id: first 16 bytes of the emergency.access transaction hash') }),
    security: bearer,
  }),
  patientEmergency: route({
    ok: {
      200: answer(
        'a page of windows, with the patient’s emergency key',
        WindowPage({
          emergencyKey: S.nullable(PublicKey),
          split: S.nullable(
            Type.Object({ threshold: S.Count, at: S.At, validators: Type.Array(IdentityId), resharedAt: S.nullable(S.At) }),
          ),
          rotationRecommended: Type.Boolean(),
          recipient: Type.Literal('emergency'),
        }),
      ),
    },
    summary: 'A patient’s emergency windows, newest first: who, why, how long, every read in them, and whether to rotate the key',
    description: `${paged} (over \`windows\`)`,
    tags: ['emergency'],
    params: Type.Object({ id: IdentityId }),
    querystring: pageQuery(),
    security: bearer,
  }),
  directory: route({
    ok: {
      200: answer(
        'matching organizations and a page of staff',
        S.page('staff', DirectoryEntry, { organizations: Type.Array(DirectoryEntry) }),
      ),
    },
    summary: 'Search member organizations and named staff by name (signed-in members only)',
    description: `Every word of \`q\` must appear in the name (or the organization's name), any case. \`organizations\`: all matching member organizations (the consortium's, a short list). ${paged} (over \`staff\`)`,
    tags: ['identities'],
    querystring: pageQuery({ q: Type.String({ minLength: 2, maxLength: 100 }) }),
    security: bearer,
  }),
  orgEmergency: route({
    ok: { 200: answer('a page of windows', WindowPage()) },
    summary: 'Every emergency window opened by an organization’s staff, newest first (its privacy officers and admin)',
    description: `${paged} (over \`windows\`)`,
    tags: ['emergency'],
    params: Type.Object({ id: IdentityId }),
    querystring: pageQuery(),
    security: bearer,
  }),
  myEmergency: route({
    ok: {
      200: answer(
        'a page of windows, with the caller’s emergency privilege',
        WindowPage({ privilege: S.nullable(Type.Object({ org: IdentityId, at: S.At })) }),
      ),
    },
    summary: 'The emergency windows the caller opened, newest first',
    description: `${paged} (over \`windows\`)`,
    tags: ['emergency'],
    querystring: pageQuery(),
    security: bearer,
  }),
  orgReviewers: route({
    ok: {
      200: answer(
        'the organization and its privacy officers',
        Type.Object({
          org: KeyOf,
          privacyOfficers: Type.Array(KeyOf),
          more: Type.Integer({ minimum: 0, description: 'officers beyond the cap, left out' }),
        }),
      ),
    },
    summary:
      'The organization and its active privacy officers, with encryption keys: who an emergency reason is sealed to (its own staff only)',
    tags: ['emergency'],
    params: Type.Object({ id: IdentityId }),
    security: bearer,
  }),
};

/** The OpenAPI document's header (everything but the paths, which come from the routes). */
export const openApiInfo = {
  openapi: {
    openapi: '3.0.3',
    info: {
      title: 'MedLedger node API',
      version: '1',
      description:
        'The /v1 API of a MedLedger node (docs/api.md, docs/records.md). Errors are {error: {code, message}}; 413 BODY_TOO_LARGE and 429 RATE_LIMITED are possible on every route.',
    },
    components: {
      securitySchemes: { session: { type: 'http' as const, scheme: 'bearer', description: 'token from POST /v1/auth/session' } },
    },
  },
  // The FHIR endpoint (/fhir/R4) describes itself in its CapabilityStatement; this document is /v1.
  // Each /v1 route's success answers join its error responses here, in the document only.
  transform: ({ schema, url }: { schema: object | undefined; url: string }) => {
    if (!url.startsWith('/v1/')) return { schema: { ...schema, hide: true } as never, url };
    if (schema === undefined) return { schema: schema as never, url };
    const { [DOC_SUCCESS]: ok, ...rest } = schema as Record<string, unknown>;
    const response = { ...successResponses(ok as { [status: number]: Success } | undefined), ...(rest.response as object) };
    return { schema: { ...rest, response } as never, url };
  },
  refResolver: {
    buildLocalReference: (json: { $id?: unknown }, _base: unknown, _fragment: unknown, i: number) => String(json.$id ?? `def-${i}`),
  },
};
