// Application state access: a read interface the stores implement, and a write overlay
// that collects one block's (or the mempool's) changes without touching the base.

/** Read access to committed application state (keys and values are strings). */
export interface StateReader {
  getState(key: string): string | undefined;
}

/** One change to application state; `value: null` deletes the key. */
export interface StateWrite {
  key: string;
  value: string | null;
}

/**
 * Buffers writes over a base reader. Reads see the buffered writes first. `changes()`
 * returns them sorted by key, so every node derives the same app hash from the same block.
 */
export class StateOverlay implements StateReader {
  private readonly writes = new Map<string, string | null>();
  constructor(
    private readonly base: StateReader,
    /**
     * When given, each key first read through to the base is added with the value it had
     * (admission's read sets): what the transaction's rules were computed from. A key this
     * overlay wrote before reading it is the transaction's own output, not an input.
     */
    private readonly reads?: Map<string, string | undefined>,
  ) {}

  getState(key: string): string | undefined {
    if (this.writes.has(key)) return this.writes.get(key) ?? undefined;
    const value = this.base.getState(key);
    if (this.reads !== undefined && !this.reads.has(key)) this.reads.set(key, value);
    return value;
  }

  set(key: string, value: string): void {
    this.writes.set(key, value);
  }

  delete(key: string): void {
    this.writes.set(key, null);
  }

  /** Buffered writes in ascending key order (code-unit order, as JCS sorts). */
  changes(): StateWrite[] {
    return [...this.writes.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, value]) => ({ key, value }));
  }

  /** Start a nested overlay whose writes can be merged back or discarded; `reads` collects the keys it reads, with their values. */
  fork(reads?: Map<string, string | undefined>): StateOverlay {
    return new StateOverlay(this, reads);
  }

  /** The buffered writes as they are (key to value, null deleting), unsorted. */
  get buffered(): ReadonlyMap<string, string | null> {
    return this.writes;
  }

  /** Write `writes` again (a transaction's recorded effects, re-applied without its rules). */
  replay(writes: ReadonlyMap<string, string | null>): void {
    for (const [key, value] of writes) this.writes.set(key, value);
  }

  /**
   * Copy another overlay's writes into this one (used to keep a transaction's effects). Each
   * key is written once, so their order does not matter (changes() sorts): no sort per
   * admitted transaction.
   */
  absorb(child: StateOverlay): void {
    for (const [key, value] of child.writes) this.writes.set(key, value);
  }
}

/** State keys, in one place so every rule reads and writes the same layout. */
export const keys = {
  nonce: (signer: string) => `nonce/${signer}`,
  identity: (id: string) => `identity/${id}`,
  signingKey: (publicKey: string) => `key/${publicKey}`,
  chainMeta: () => 'meta/chain',
  /** The genesis validator set: `{validators: [{id, name, publicKey, encryptionKey, power}]}`. */
  validatorSet: () => 'meta/validators',
  /** Emergency-access parameters: `{validators: [id…], maxDurationMs}` (emergency.ts). */
  emergencyParams: () => 'meta/emergency',
  evidence: (validator: string, height: number, round: number, step: string) => `evidence/${validator}/${height}/${round}/${step}`,
  /** Staff index of an organization: `staff/<org>/<id>`. */
  staff: (org: string, id: string) => `staff/${org}/${id}`,
  record: (id: string) => `record/${id}`,
  /**
   * A patient's records as a dense list in anchor order, so the patient's SDK can prove a page
   * of their records complete: entry n holds the n-th record's id, the count how many.
   */
  recordIndex: (patient: string, position: number) => `recordidx/${patient}/${String(position).padStart(12, '0')}`,
  recordCount: (patient: string) => `recordcount/${patient}`,
  /** Index of a patient's records: `precord/<patient>/<record>`. */
  patientRecord: (patient: string, record: string) => `precord/${patient}/${record}`,
  grant: (id: string) => `grant/${id}`,
  /** JSON array of the ids of every grant `patient` made to `grantee` (rules read it without a scan). */
  grantsOf: (patient: string, grantee: string) => `grants/${patient}/${grantee}`,
  /** Index for a grantee: patients who granted it something, `shared/<grantee>/<patient>`. */
  sharedWith: (grantee: string, patient: string) => `shared/${grantee}/${patient}`,
  delegate: (patient: string, delegate: string) => `delegate/${patient}/${delegate}`,
  /** Reverse index: the patients who named this delegate (pending or accepted). */
  delegating: (delegate: string, patient: string) => `delegating/${delegate}/${patient}`,
  /** JSON array (sorted) of a patient's accepted delegates, so rules read them without a scan. */
  acceptedDelegates: (patient: string) => `delegatelist/${patient}`,
  /** JSON array (sorted) of every identity a patient ever granted something, for the recipient rule. */
  grantees: (patient: string) => `granteelist/${patient}`,
  /** Access log of a patient (`-` for reads of unknown records), in commit order. */
  accessEvent: (patient: string, height: number, eventKey: string) => `access/${patient}/${String(height).padStart(12, '0')}/${eventKey}`,
  /** A patient's emergency reads alone (copies of their access events), in commit order. */
  emergencyAccessEvent: (patient: string, height: number, eventKey: string) =>
    `accessemg/${patient}/${String(height).padStart(12, '0')}/${eventKey}`,
  /**
   * A patient's access log as a dense list, so a client can prove a page complete: entry n
   * holds the access-log key of the n-th event (from 0, in commit order), and the count how
   * many there are. Folded denials keep their entry. `log` is `all` or `emergency`.
   */
  accessIndex: (log: 'all' | 'emergency', patient: string, position: number) =>
    `accessidx/${log}/${patient}/${String(position).padStart(12, '0')}`,
  accessCount: (log: 'all' | 'emergency', patient: string) => `accesscount/${log}/${patient}`,
  /** The access-log key of the event that denials by `accessor` of `record` for `reason` in hour `hour` (of block time) join. */
  accessBucket: (patient: string, accessor: string, record: string, reason: string, hour: number) =>
    `accessagg/${patient}/${accessor}/${record}/${reason}/${hour}`,
  /** Marks an access event id as recorded, so resubmissions are skipped. */
  accessSeen: (eventKey: string) => `accessid/${eventKey}`,
  /** The one record a vault object hash belongs to (objects.ts). */
  object: (hash: string) => `object/${hash}`,
  // Insurance (docs/insurance.md). Queue indexes carry the padded height first, so they list in commit order.
  /** A plan's head: insurer and number of versions. */
  plan: (id: string) => `plan/${id}`,
  planVersion: (id: string, version: number) => `planv/${id}/${String(version).padStart(6, '0')}`,
  coverage: (id: string) => `coverage/${id}`,
  /** Deductible met, out-of-pocket met and counts used in a coverage's benefit period. */
  accumulator: (coverage: string) => `accum/${coverage}`,
  preauth: (id: string) => `preauth/${id}`,
  claim: (id: string) => `claim/${id}`,
  /** Claims already billed for one patient, provider, claim type, code and service date (duplicate check). */
  claimLine: (patient: string, provider: string, type: string, code: string, date: string) =>
    `claimline/${patient}/${provider}/${type}/${code}/${date}`,
  /** Prior-authorization decision times of an insurer (CMS-0057-F public metrics). */
  preauthMetrics: (insurer: string) => `pametrics/${insurer}`,
  /**
   * Chunk `chunk` of a list of plans, coverages, preauths or claims by insurer, patient or
   * provider: a JSON array of the ids at positions INSURANCE_LIST_CHUNK·chunk onwards (0, 1,
   * 2, … in commit order), at most INSURANCE_LIST_CHUNK of them. Dense positions and the count
   * below let a client prove a page holds every entry (docs/insurance.md "Complete lists").
   */
  insuranceIndex: (index: InsuranceIndex, party: string, chunk: number) => `ins-${index}/${party}/${String(chunk).padStart(12, '0')}`,
  /** How many entries the list `ins-<index>/<party>/` holds (decimal text; absent = 0). */
  insuranceIndexCount: (index: InsuranceIndex, party: string) => `inscount/${index}/${party}`,
  // Medicines (docs/medicines.md).
  product: (gtin: string) => `product/${gtin}`,
  /** A serialized package `gtin/serial`. */
  package: (gtin: string, serial: string) => `pkg/${gtin}/${serial}`,
  /** A case (SSCC) and the packages packed in it. */
  case: (sscc: string) => `case/${sscc}`,
  recall: (gtin: string, lot: string) => `recall/${gtin}/${lot}`,
  lotQuarantine: (gtin: string, lot: string) => `lotq/${gtin}/${lot}`,
  /** An EPCIS event by its hash id; its presence refuses the same event twice. */
  epcisEvent: (eventId: string) => `epcis/${eventId}`,
  /** Trace index of a package's events, in commit order. */
  packageEvent: (gtin: string, serial: string, height: number, eventId: string) =>
    `pkgev/${gtin}/${serial}/${String(height).padStart(12, '0')}/${eventId}`,
  /** An RxNorm code a regulator lists as a controlled substance (no repeats). */
  controlled: (rxnorm: string) => `controlled/${rxnorm}`,
  /** A logged verification request (for the regulator), and its index by height. */
  verification: (height: number, id: string) => `verifylog/${String(height).padStart(12, '0')}/${id}`,
  /** A determination of illegitimate product and its 24-hour notification. */
  illegitimateNotice: (id: string) => `ilnotice/${id}`,
  illegitimateNoticeIndex: (height: number, id: string) => `ilnoticeidx/${String(height).padStart(12, '0')}/${id}`,
  prescription: (id: string) => `rx/${id}`,
  /** Index of prescriptions by patient (`p`) or by the pharmacy holding them (`d`). */
  rxIndex: (index: 'p' | 'd', party: string, height: number, id: string) => `rx${index}/${party}/${String(height).padStart(12, '0')}/${id}`,
  // Governance (docs/governance.md).
  /** JSON array (sorted) of the member organizations' ids. */
  govMembers: () => 'gov/members',
  /** The passing rule `{numerator, denominator}`; absent means more than 2/3. */
  govRule: () => 'gov/rule',
  /** Chain parameters set by governance (governance.ts GovParams). */
  govParams: () => 'gov/params',
  /** The genesis block limits `{maxBlockTxs, maxBlockBytes}`, which governance may only lower. */
  govGenesisLimits: () => 'gov/genesis-limits',
  /** The next proposal number. */
  govNext: () => 'gov/next',
  /** JSON array of the open proposals' numbers, oldest first. */
  govOpen: () => 'gov/open',
  govProposal: (id: number) => `gov/proposal/${String(id).padStart(12, '0')}`,
  /** A validator set decided by governance, by the height it is effective from. */
  govValset: (effectiveHeight: number) => `gov/valset/${String(effectiveHeight).padStart(12, '0')}`,
  /** The latest decided validator set (the base the next change builds on). */
  govValsetLatest: () => 'gov/valset-latest',
};

/**
 * Entries per key of an insurance list. Every claim is appended to three lists (its insurer's,
 * patient's and provider's); one key per entry made those three new state keys per claim,
 * each a new leaf of the state tree and new rows to store, about a third of a validator's
 * CPU per claim (docs/insurance.md "Complete lists"). The SDK's list proofs use the same
 * number (client insurance-lists.ts).
 */
export const INSURANCE_LIST_CHUNK = 16;

/** The insurance list indexes: by insurer (`i*`), patient (`p*`) or provider organization (`r*`). */
export type InsuranceIndex = 'iplan' | 'icov' | 'pcov' | 'ipa' | 'ppa' | 'rpa' | 'iclaim' | 'pclaim' | 'rclaim';

/** Key prefixes the node scans to list things (end with '/'). */
export const prefixes = {
  patientRecords: (patient: string) => `precord/${patient}/`,
  grantsOfPatient: (patient: string) => `grants/${patient}/`,
  sharedWith: (grantee: string) => `shared/${grantee}/`,
  delegates: (patient: string) => `delegate/${patient}/`,
  delegating: (delegate: string) => `delegating/${delegate}/`,
  accessLog: (patient: string) => `access/${patient}/`,
  emergencyAccessLog: (patient: string) => `accessemg/${patient}/`,
  staff: (org: string) => `staff/${org}/`,
  insuranceIndex: (index: InsuranceIndex, party: string) => `ins-${index}/${party}/`,
  packageEvents: (gtin: string, serial: string) => `pkgev/${gtin}/${serial}/`,
  rxIndex: (index: 'p' | 'd', party: string) => `rx${index}/${party}/`,
  verifications: () => 'verifylog/',
  illegitimateNotices: () => 'ilnoticeidx/',
  govProposals: () => 'gov/proposal/',
  govValsets: () => 'gov/valset/',
};

/** Store a JSON value under `key`. */
export function writeJson(state: StateOverlay, key: string, value: unknown): void {
  state.set(key, JSON.stringify(value));
}

/** Read a JSON value stored under `key`, or undefined. */
export function readJson<T>(state: StateReader, key: string): T | undefined {
  const raw = state.getState(key);
  return raw === undefined ? undefined : (JSON.parse(raw) as T);
}
