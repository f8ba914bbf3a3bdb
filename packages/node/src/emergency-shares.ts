// Opening this validator's own share of a patient's emergency key, whether the patient sealed it
// (`emergency.split`) or the validators re-shared it (`emergency.reshare`, sub-shares from each
// dealer). Used by the emergency agent (to answer windows) and the re-share agent (to deal).
import { concatBytes, type Envelope, interpolateAtZero, openEnvelope, toHex, utf8 } from '@medledger/crypto';
import { dealtShareAad, type EmergencySplit, isDealtShare, registeredShareAad, type SplitShare } from '@medledger/ehr';

// Open with the first of this node's encryption keys that fits: after a `validator.rotate`
// that changed its encryption key, older shares are sealed to `node.key`'s and newer ones to
// `node.next.key`'s. Throws the last key's error when none opens it.
function openWithAny(keys: readonly string[], envelope: Envelope, aad: string): Uint8Array {
  let last: unknown;
  for (const key of keys) {
    try {
      return openEnvelope(key, envelope, utf8(aad));
    } catch (err) {
      last = err;
    }
  }
  throw last ?? new Error('no encryption key to open the share with');
}

/**
 * The plain pieces of `validator`'s share of `split`: one 32-byte share, or for a re-shared
 * split one sub-share per dealer, in the split's `dealers` order. Throws when an envelope does
 * not open with any of `encryptionPrivateKeys` (sealed to another key, or tampered with). The
 * caller must zero the returned bytes.
 */
export function openHeldParts(split: EmergencySplit, mine: SplitShare, encryptionPrivateKeys: readonly string[]): Uint8Array[] {
  if (!isDealtShare(mine))
    return [openWithAny(encryptionPrivateKeys, mine.sealed, registeredShareAad(split.patient, mine.validator, split.emergencyKey))];
  const dealers = split.dealers ?? [];
  const holders = split.holders ?? '';
  const opened: Uint8Array[] = [];
  try {
    for (const [i, part] of mine.parts.entries()) {
      const aad = dealtShareAad(split.patient, holders, dealers[i] as number, mine.validator, split.emergencyKey);
      opened.push(openWithAny(encryptionPrivateKeys, part.sealed, aad));
    }
  } catch (err) {
    for (const p of opened) p.fill(0);
    throw err;
  }
  return opened;
}

/** The pieces a validator posts for a window, as one byte string (the clinician checks each). */
export function postedPayload(parts: readonly Uint8Array[]): Uint8Array {
  return concatBytes(...parts);
}

/**
 * This validator's share itself: the one the patient sealed, or the Lagrange combination of
 * the dealt sub-shares at the dealers' x (Desmedt–Jajodia). The caller must zero it.
 */
export function ownShare(split: EmergencySplit, parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1 && split.dealers === undefined) return Uint8Array.from(parts[0] as Uint8Array);
  const dealers = split.dealers ?? [];
  return interpolateAtZero(parts.map((p, i) => ({ x: dealers[i] as number, y: toHex(p) })));
}
