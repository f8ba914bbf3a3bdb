// The shapes the /v1 API answers with (TypeBox → JSON Schema), reused by the routes' success
// responses in the OpenAPI document. They are documentation only: Fastify never serialises a
// 2xx body through them (route() in api-schemas.ts keeps them out of `response`), so a field
// the document forgets is still sent. Objects stay open: a listed field is always there.
import { type TSchema, Type } from '@sinclair/typebox';

export const hexOf = (bytes: number, description?: string) =>
  Type.String({ pattern: `^[0-9a-f]{${bytes * 2}}$`, ...(description === undefined ? {} : { description }) });
export const Hash = hexOf(32);
export const Id20 = hexOf(20);
export const Id16 = hexOf(16);
export const Ms = Type.Integer({ minimum: 0, description: 'milliseconds since the epoch (block time unless said otherwise)' });
export const Count = Type.Integer({ minimum: 0 });
export const nullable = <T extends TSchema>(s: T) => Type.Union([s, Type.Null()]);
const obj = (props: Parameters<typeof Type.Object>[0], title?: string) => Type.Object(props, title === undefined ? {} : { title });

/** A block height and its block time. */
export const At = obj({ height: Count, time: Ms }, 'At');
/** Who did it, at which block. */
export const AtBy = obj({ height: Count, time: Ms, by: Type.String() }, 'AtBy');

/** `next` of a paged answer: the cursor of the next page, null on the last one. */
export const Next = nullable(Type.String({ description: 'cursor of the next page; null on the last page' }));
/** `{<field>: items, next}`, the answer of every list. */
export const page = (field: string, item: TSchema, extra: Record<string, TSchema> = {}) =>
  Type.Object({ [field]: Type.Array(item), next: Next, ...extra });

export const Signature = obj({ validator: hexOf(32), sig: hexOf(64) }, 'CommitSignature');
export const Commit = obj({ height: Count, round: Count, blockHash: Hash, signatures: Type.Array(Signature) }, 'Commit');
export const Header = obj(
  {
    chainId: Type.String(),
    height: Count,
    time: Ms,
    prevHash: Hash,
    txRoot: Hash,
    appHash: Hash,
    proposer: hexOf(32),
    lastCommitHash: Hash,
    validatorsHash: Hash,
    nextValidatorsHash: Hash,
  },
  'Header',
);
export const Validator = obj({ publicKey: hexOf(32), power: Count }, 'Validator');

export const Identity = obj(
  {
    id: Id20,
    role: Type.String(),
    publicKey: hexOf(32),
    encryptionKey: hexOf(32),
    registeredAt: At,
    status: Type.Union([Type.Literal('active'), Type.Literal('suspended'), Type.Literal('revoked')]),
    name: Type.Optional(Type.String()),
    org: Type.Optional(Id20),
    orgKind: Type.Optional(Type.String()),
    emergencyKey: Type.Optional(hexOf(32)),
  },
  'Identity',
);
/** What anyone may see of an identity named in an answer. */
export const PublicIdentity = obj({ id: Id20, role: Type.String(), name: nullable(Type.String()), org: nullable(Id20) }, 'PublicIdentity');

export const Grant = obj(
  {
    id: Id16,
    patient: Id20,
    grantee: Id20,
    scope: obj({ categories: Type.Array(Type.String()), resourceTypes: Type.Array(Type.String()), records: Type.Array(Id16) }),
    access: Type.Union([Type.Literal('read'), Type.Literal('read-write')]),
    purpose: Type.String(),
    expiresAt: nullable(Ms),
    grantedBy: Id20,
    grantedAt: At,
    revoked: nullable(AtBy),
    active: Type.Boolean({ description: 'in force at the last block time' }),
  },
  'Grant',
);

/** A record's anchor as the API shows it (docs/records.md). */
export const Record = obj(
  {
    id: Id16,
    record: Id16,
    patient: Id20,
    author: Id20,
    resourceType: Type.String(),
    category: Type.String(),
    contentHash: Hash,
    size: Count,
    envelopes: Type.Record(Type.String(), Hash, { description: 'envelope object hash by recipient id (or `emergency`)' }),
    supersedes: nullable(Id16),
    supersededBy: nullable(Id16),
    anchoredAt: At,
    erased: nullable(AtBy),
    status: Type.Union([Type.Literal('active'), Type.Literal('erased')]),
  },
  'Record',
);

export const AccessEvent = obj(
  {
    id: Type.String(),
    record: nullable(Id16),
    patient: nullable(Id20),
    accessor: nullable(Id20),
    purpose: nullable(Type.String()),
    decision: Type.Union([Type.Literal('allowed'), Type.Literal('denied')]),
    reason: Type.String(),
    emergency: Type.Boolean(),
    at: Type.Integer({ description: "the serving node's clock when it answered (ms)" }),
    node: Type.String(),
    height: Count,
    time: Ms,
    count: Type.Integer({ minimum: 1 }),
    last: At,
  },
  'AccessEvent',
);

export const Delegation = obj(
  {
    patient: Id20,
    delegate: Id20,
    status: Type.Union([Type.Literal('pending'), Type.Literal('accepted')]),
    invitedAt: At,
    acceptedAt: nullable(At),
  },
  'Delegation',
);

export const EmergencyWindow = obj(
  {
    id: Id16,
    patient: Id20,
    clinician: Id20,
    org: Id20,
    reason: Type.Object({}, { description: 'the stated reason, sealed to the patient and the organization' }),
    durationMs: Count,
    openedAt: At,
    expiresAt: Ms,
    emergencyKey: hexOf(32),
    threshold: Count,
    commitments: Type.Array(obj({ validator: Type.String(), x: Count, commitment: Type.String() })),
    active: Type.Boolean(),
    status: Type.Union([Type.Literal('pending'), Type.Literal('ready'), Type.Literal('closed')]),
    sharesPosted: Count,
    clinicianIdentity: nullable(PublicIdentity),
    shares: Type.Optional(
      Type.Array(Type.Object({}), { description: "the posted shares, sealed to the clinician (the clinician's view only)" }),
    ),
    accesses: Type.Optional(Type.Array(AccessEvent)),
  },
  'EmergencyWindow',
);

/** A committed transaction's place in its block, with its RFC 9162 inclusion proof. */
export const InclusionProof = obj({ leafIndex: Count, treeSize: Count, root: Hash, path: Type.Array(Hash) }, 'InclusionProof');
export const TxResult = obj({ code: Type.String(), log: Type.Optional(Type.String()) }, 'TxResult');

/** A proven state answer (docs/api.md "Proven state"): entries with proofs against the tip. */
export const ProvenState = obj(
  {
    height: Count,
    stateRoot: Hash,
    resultsRoot: Hash,
    entries: Type.Array(obj({ key: Type.String(), value: nullable(Type.String()) })),
    header: Type.Optional(Header),
    commit: Type.Optional(Commit),
    engine: Type.Optional(Type.Literal('cometbft')),
  },
  'ProvenState',
);
