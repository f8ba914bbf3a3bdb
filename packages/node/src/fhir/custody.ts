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
/** Wrong codes tolerated before the code stops working and a new one must be issued. */
export const MAX_CLAIM_ATTEMPTS = 5;

interface CustodyFile {
  v: 1;
  patient: string;
  /** The patient's KeyBundle, sealed to the organization's encryption key. */
  keys: unknown;
  claim: null | { codeHash: string; expiresAt: number; failures: number };
}

export class CustodyStore {
  readonly dir: string;
  /** Patients whose claim is being completed right now (one at a time each). */
  readonly claiming = new Set<string>();

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
    this.write({ ...file, claim: { codeHash: sha256Hex(utf8(code)), expiresAt, failures: 0 } });
    return { code, expiresAt };
  }

  /**
   * Check a claim code. A wrong code counts against the limit; after MAX_CLAIM_ATTEMPTS
   * the code is void. Throws FhirError 403 for any failure, saying the same for each, so
   * a caller learns nothing about which patients are in custody.
   */
  checkClaimCode(patient: string, code: unknown): void {
    const refuse = () => new FhirError(403, 'security', 'unknown patient, or the claim code is wrong, used or expired');
    const file = /^[0-9a-f]{40}$/.test(patient) ? this.read(patient) : undefined;
    if (file?.claim === null || file?.claim === undefined || typeof code !== 'string') throw refuse();
    if (file.claim.expiresAt <= this.now() || file.claim.failures >= MAX_CLAIM_ATTEMPTS) throw refuse();
    if (sha256Hex(utf8(code)) !== file.claim.codeHash) {
      this.write({ ...file, claim: { ...file.claim, failures: file.claim.failures + 1 } });
      throw refuse();
    }
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
