// Custody of patient keys (docs/fhir.md "Patient identities and custody"): when a hospital
// registers a patient, the node makes the patient's keys and keeps them, sealed to the
// organization's encryption key, in `<home>/fhir-custody/` (0700 / 0600), until the patient
// claims their identity with a one-time claim code, which is kept only as its SHA-256.
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { type KeyBundle, openEnvelope, sealToPublicKey, sha256Hex, toHex, utf8 } from '@medledger/crypto';
import { canonicalBytes } from '@medledger/ledger';
import { FhirError } from './outcome.js';

const AAD_PREFIX = 'medledger/custody/v1\n';
/** How long a claim code works (ms): 30 days. */
export const CLAIM_CODE_TTL_MS = 30 * 24 * 60 * 60_000;
/**
 * Wrong claim codes one source (client address) may send per window. A wrong code never
 * voids the code itself — that let anyone burn a patient's code with five guesses — and the
 * code is 128 random bits, so guessing is hopeless; the limit only keeps guessers from
 * loading the node (docs/fhir.md "Claim codes").
 */
export const MAX_CLAIM_FAILURES_PER_SOURCE = 10;
export const CLAIM_FAILURE_WINDOW_MS = 15 * 60_000;
/** Sources whose failures are remembered at once; the oldest is forgotten first. */
const MAX_CLAIM_SOURCES = 10_000;

interface CustodyFile {
  v: 1;
  patient: string;
  /** The patient's KeyBundle, sealed to the organization's encryption key. */
  keys: unknown;
  claim: null | { codeHash: string; expiresAt: number };
}

export class CustodyStore {
  readonly dir: string;
  /** Patients whose claim is being completed right now (one at a time each). */
  readonly claiming = new Set<string>();
  /** Wrong claim codes by source address: count and the start of its window. */
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(
    homeDir: string,
    private readonly org: KeyBundle,
    private readonly now: () => number,
  ) {
    this.dir = join(homeDir, 'fhir-custody');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
  }

  private path(patient: string): string {
    if (!/^[0-9a-f]{40}$/.test(patient)) throw new FhirError(404, 'not-found', 'no such patient');
    return join(this.dir, `${patient}.json`);
  }

  private write(file: CustodyFile): void {
    const path = this.path(file.patient);
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, JSON.stringify(file), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, path);
  }

  private read(patient: string): CustodyFile | undefined {
    const path = this.path(patient);
    if (!existsSync(path)) return undefined;
    return JSON.parse(readFileSync(path, 'utf8')) as CustodyFile;
  }

  has(patient: string): boolean {
    return existsSync(this.path(patient));
  }

  /** Keep a new patient's keys. */
  save(patient: string, keys: KeyBundle): void {
    const sealed = sealToPublicKey(this.org.encryption.publicKey, canonicalBytes(keys), utf8(AAD_PREFIX + patient));
    this.write({ v: 1, patient, keys: sealed, claim: null });
  }

  /** The custodial keys of `patient`, or undefined if the node holds none. */
  load(patient: string): KeyBundle | undefined {
    const file = this.read(patient);
    if (file === undefined) return undefined;
    const bytes = openEnvelope(this.org.encryption.privateKey, file.keys, utf8(AAD_PREFIX + patient));
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as KeyBundle;
  }

  /** Issue a fresh one-time claim code (any earlier one stops working). Throws FhirError 404. */
  issueClaimCode(patient: string): { code: string; expiresAt: number } {
    const file = this.read(patient);
    if (file === undefined) throw new FhirError(404, 'not-found', 'this node holds no keys for that patient');
    const code = toHex(randomBytes(16));
    const expiresAt = this.now() + CLAIM_CODE_TTL_MS;
    this.write({ ...file, claim: { codeHash: sha256Hex(utf8(code)), expiresAt } });
    return { code, expiresAt };
  }

  /**
   * Check a claim code sent from `source` (the client's address). A wrong code counts
   * against that source only; after MAX_CLAIM_FAILURES_PER_SOURCE in a window the source is
   * refused with 429 until the window ends, while the code keeps working for its holder.
   * Throws FhirError 403 for any wrong, used or expired code (the same answer for each, so
   * a caller learns nothing about which patients are in custody).
   */
  checkClaimCode(patient: string, code: unknown, source: string): void {
    const now = this.now();
    let seen = this.failures.get(source);
    if (seen !== undefined && now - seen.since >= CLAIM_FAILURE_WINDOW_MS) {
      this.failures.delete(source);
      seen = undefined;
    }
    if (seen !== undefined && seen.count >= MAX_CLAIM_FAILURES_PER_SOURCE)
      throw new FhirError(429, 'throttled', 'too many wrong claim codes from this address; try again in 15 minutes');
    const refuse = () => {
      if (seen === undefined) {
        if (this.failures.size >= MAX_CLAIM_SOURCES) this.failures.delete(this.failures.keys().next().value as string);
        this.failures.set(source, { count: 1, since: now });
      } else seen.count++;
      return new FhirError(403, 'security', 'unknown patient, or the claim code is wrong, used or expired');
    };
    const file = /^[0-9a-f]{40}$/.test(patient) ? this.read(patient) : undefined;
    if (file?.claim === null || file?.claim === undefined || typeof code !== 'string') throw refuse();
    if (file.claim.expiresAt <= now || sha256Hex(utf8(code)) !== file.claim.codeHash) throw refuse();
  }

  /** Delete the custodial copy: overwrite the file with zeros, then remove it. */
  destroy(patient: string): void {
    const path = this.path(patient);
    if (!existsSync(path)) return;
    const size = statSync(path).size;
    const fd = openSync(path, 'r+');
    try {
      writeSync(fd, Buffer.alloc(size), 0, size, 0);
    } finally {
      closeSync(fd);
    }
    rmSync(path);
  }
}
