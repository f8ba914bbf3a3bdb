// Opening this validator's own share of a patient's emergency key, whether the patient sealed it
// (`emergency.split`) or the validators re-shared it (`emergency.reshare`, sub-shares from each
// dealer). Used by the emergency agent (to answer windows) and the re-share agent (to deal).
import { concatBytes, interpolateAtZero, openEnvelope, toHex, utf8 } from '@medledger/crypto';
import { dealtShareAad, type EmergencySplit, isDealtShare, registeredShareAad, type SplitShare } from '@medledger/ehr';

/**
 * The plain pieces of `validator`'s share of `split`: one 32-byte share, or for a re-shared
 * split one sub-share per dealer, in the split's `dealers` order. Throws when an envelope does
 * not open with `encryptionPrivateKey` (sealed to another key, or tampered with). The caller
 * must zero the returned bytes.
 */
export function openHeldParts(split: EmergencySplit, mine: SplitShare, encryptionPrivateKey: string): Uint8Array[] {
  if (!isDealtShare(mine))
    return [openEnvelope(encryptionPrivateKey, mine.sealed, utf8(registeredShareAad(split.patient, mine.validator, split.emergencyKey)))];
  const dealers = split.dealers ?? [];
  const holders = split.holders ?? '';
  const opened: Uint8Array[] = [];
  try {
    for (const [i, part] of mine.parts.entries()) {
      const aad = dealtShareAad(split.patient, holders, dealers[i] as number, mine.validator, split.emergencyKey);
      opened.push(openEnvelope(encryptionPrivateKey, part.sealed, utf8(aad)));
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
