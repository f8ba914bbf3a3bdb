// An organization's own node re-seals a record's data key to one of its staff (docs/records.md
// "Hospital-wide shares"): a grant to the organization seals the key to the organization
// only, so its clinicians can read such records without ever holding the organization's
// private key. The read gate decides (grant, staff role, purpose) and logs the read first.
import { resolve } from 'node:path';
import { openDataKey, sealDataKey } from '@medledger/client';
import { idFromPublicKey, type KeyBundle } from '@medledger/crypto';
import type { Identity } from '@medledger/ehr';
import { readOrgKey } from './home.js';

/** Re-seal a data key held by one organization to its staff member. */
export interface OrgResealer {
  /** The organization whose envelopes this node can open. */
  readonly orgId: string;
  /**
   * Open `envelope` (sealed to the organization for `recordId`) and seal the data key to
   * `to`'s encryption key, labelled for `to`. The data key is wiped before returning.
   * Throws CryptoError when the envelope does not open.
   */
  reseal(envelope: Uint8Array, recordId: string, to: Identity): Uint8Array;
}

/** `config.json` → `reseal`: `{orgKeyHome?}`, the home holding `org.key` (default: this home). */
export function parseResealConfig(raw: unknown, homeDir: string): { orgKeyHome: string } | undefined {
  if (raw === undefined || raw === null || raw === false) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error('config.reseal must be an object');
  const r = raw as Record<string, unknown>;
  if (r.enabled === false) return undefined;
  if (r.orgKeyHome !== undefined && typeof r.orgKeyHome !== 'string') throw new Error('config.reseal.orgKeyHome must be a directory path');
  return { orgKeyHome: resolve(homeDir, (r.orgKeyHome as string | undefined) ?? '.') };
}

/** A resealer over the organization's keys (opened once, at start). */
export function orgResealer(orgKeys: KeyBundle): OrgResealer {
  const orgId = idFromPublicKey(orgKeys.signing.publicKey);
  return {
    orgId,
    reseal(envelope, recordId, to) {
      const dataKey = openDataKey(JSON.parse(Buffer.from(envelope).toString('utf8')), recordId, orgId, orgKeys.encryption.privateKey);
      try {
        return sealDataKey(dataKey, recordId, to.id, to.encryptionKey).object;
      } finally {
        dataKey.fill(0);
      }
    },
  };
}

/** The resealer `config.reseal` asks for, reading `org.key` with the home passphrase; undefined when off. */
export function resealerFromConfig(raw: unknown, homeDir: string): OrgResealer | undefined {
  const cfg = parseResealConfig(raw, homeDir);
  return cfg === undefined ? undefined : orgResealer(readOrgKey(cfg.orgKeyHome));
}
