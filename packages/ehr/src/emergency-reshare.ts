// Proactive re-sharing of emergency keys when the validator set changes (docs/emergency.md
// "When the validator set changes"; Desmedt & Jajodia 1997, Herzberg et al. 1995). The key is
// never assembled: each old holder that stays a validator splits its own share with a fresh
// polynomial to the new set, sealing one sub-share to each new validator with a commitment.
// The first `threshold` (old) contributions in commit order count; the moment the last of them
// commits, the new split replaces the old one. Each new holder's share is the Lagrange
// combination, at the dealers' old x, of the sub-shares it was dealt: a point on a new
// polynomial through the same key, so old shares (a removed validator's included) no longer
// combine with the live ones.
import type { Envelope } from '@medledger/crypto';
import { arrayField, type Body, hex32Field, idField, intField, itemObject, onlyFields } from './body.js';
import { activeWindowFor, emergencyKeys, emergencyThreshold, getSplit, requireParams } from './emergency.js';
import {
  type DealtPart,
  type EmergencySplit,
  emergencyHolders,
  emergencyHoldersHash,
  sealedShareField,
  splitHoldersHash,
  splitVersion,
} from './emergency-split.js';
import { EhrError } from './errors.js';
import { activeSigner } from './identity.js';
import type { TxKind } from './kinds.js';
import { readJson, type StateReader, writeJson } from './state.js';

/** Patients per `emergency.reshare` transaction: one validator re-shares many patients at once. */
export const MAX_RESHARE_ITEMS = 100;

/** One old holder's dealing for one patient: a sub-share for each new holder, in holder order. */
export interface ReshareContribution {
  dealer: string;
  /** The dealer's x in the split being re-shared (its Lagrange coefficient depends on it). */
  x: number;
  parts: DealtPart[];
}

/** Re-sharing of a patient's split in progress, toward the holder set `target`. */
export interface PendingReshare {
  patient: string;
  /** `emergencyHoldersHash` of the new holders. */
  target: string;
  /** The new holders' ids, in set order (x = 1, 2, …). */
  holders: string[];
  /** `splitVersion` of the split being re-shared: a newer split makes this moot. */
  from: number;
  contributions: ReshareContribution[];
}

export function getPendingReshare(state: StateReader, patient: string): PendingReshare | undefined {
  return readJson<PendingReshare>(state, emergencyKeys.reshare(patient));
}

/**
 * AAD of a sub-share dealt to `holder` for `patient`'s key by the old holder at `dealerX`, in
 * the re-sharing toward holder set `target`: a sealed sub-share cannot be moved to another
 * patient, holder, dealer position or re-sharing.
 */
export function dealtShareAad(patient: string, target: string, dealerX: number, holder: string, emergencyKey: string): string {
  return `medledger/emergency-reshare/v1\n${patient}\n${target}\n${dealerX}\n${holder}\n${emergencyKey}`;
}

/**
 * Does `split` still wait for re-sharing to the current holders, and may `validator` deal for
 * it now? Used by the rule below and by each validator's agent to pick its work, so both
 * agree. `undefined` means yes; otherwise why not.
 */
export function reshareBlocker(
  state: StateReader,
  split: EmergencySplit,
  validator: string,
  target: string,
  time: number,
): 'current' | 'not-holder' | 'window-open' | 'contributed' | undefined {
  if (splitHoldersHash(state, split) === target) return 'current';
  if (!split.shares.some((s) => s.validator === validator)) return 'not-holder';
  // The split a window was opened on must stay the one its holders answer from.
  if (activeWindowFor(state, split.patient, time) !== undefined) return 'window-open';
  const pending = getPendingReshare(state, split.patient);
  if (pending !== undefined && pending.target === target && pending.from === splitVersion(split)) {
    if (pending.contributions.some((c) => c.dealer === validator)) return 'contributed';
  }
  return undefined;
}

/**
 * `emergency.reshare` (validator node): deal this validator's share of each listed patient's
 * split to the current validator set (`target` must name it: `RESHARE_STALE` otherwise).
 * `{target, items: [{patient, from, x, shares: [{validator, x, commitment, sealed}]}]}`, at
 * most MAX_RESHARE_ITEMS items. An item whose split is already current, was replaced since
 * `from`, has an open window, or already holds this validator's dealing is skipped: several
 * validators race for the first `threshold` places, and a loser's work is simply not needed.
 */
export const emergencyReshare: TxKind = {
  apply(ctx, tx, state) {
    requireParams(ctx);
    const b = onlyFields(tx.body, 'emergency.reshare', ['target', 'items']);
    const target = hex32Field(b, 'target');
    const items = arrayField(b, 'items', MAX_RESHARE_ITEMS, (x, path) => {
      const item = itemObject(x, path, ['patient', 'from', 'x', 'shares']);
      const at = (f: string) => ({ [`${path}.${f}`]: item[f] }) as Body;
      return {
        patient: idField(at('patient'), `${path}.patient`),
        from: intField(at('from'), `${path}.from`),
        x: intField(at('x'), `${path}.x`, 255),
        shares: arrayField(at('shares'), `${path}.shares`, 255, (y, sub) => {
          const s = itemObject(y, sub, ['validator', 'x', 'commitment', 'sealed']);
          const on = (f: string) => ({ [`${sub}.${f}`]: s[f] }) as Body;
          return {
            validator: idField(on('validator'), `${sub}.validator`),
            x: intField(on('x'), `${sub}.x`, 255),
            commitment: hex32Field(on('commitment'), `${sub}.commitment`),
            sealed: sealedShareField(on('sealed'), `${sub}.sealed`) as Envelope,
          };
        }),
      };
    });
    const node = activeSigner(state, tx.signer);
    if (node.role !== 'validator') throw new EhrError('UNAUTHORIZED', 'only validator nodes re-share emergency keys');
    const holders = emergencyHolders(state);
    const ids = holders.map((h) => h.id);
    if (target !== emergencyHoldersHash(holders))
      throw new EhrError('RESHARE_STALE', 'body.target is not the current validator set; re-share to the latest one');
    if (!ids.includes(node.id)) throw new EhrError('UNAUTHORIZED', 'only a validator of the current set re-shares');
    const seen = new Set<string>();
    for (const [i, item] of items.entries()) {
      if (seen.has(item.patient)) throw new EhrError('INVALID_BODY', `body.items[${i}]: patient ${item.patient} is listed twice`);
      seen.add(item.patient);
      // Exactly one sub-share per current validator, in set order: nobody outside the set gets
      // part of a key, and nobody in it is left without a share.
      if (item.shares.length !== ids.length || item.shares.some((s, j) => s.validator !== ids[j] || s.x !== j + 1))
        throw new EhrError('INVALID_BODY', `body.items[${i}].shares must hold one per current validator, in set order, with x = 1, 2, …`);
      const split = getSplit(state, item.patient);
      if (split === undefined) throw new EhrError('NOT_FOUND', `patient ${item.patient} has no emergency split`);
      if (splitVersion(split) !== item.from) continue;
      if (reshareBlocker(state, split, node.id, target, ctx.time) !== undefined) continue;
      const mine = split.shares.find((s) => s.validator === node.id);
      if (mine?.x !== item.x) throw new EhrError('INVALID_BODY', `body.items[${i}].x is not this validator's x in the split`);
      addContribution(state, ctx, split, target, ids, {
        dealer: node.id,
        x: item.x,
        parts: item.shares.map((s) => ({ commitment: s.commitment, sealed: s.sealed })),
      });
    }
  },
};

// Record one dealing; with the split's threshold of them, the new split goes live.
function addContribution(
  state: Parameters<TxKind['apply']>[2],
  ctx: { height: number; time: number },
  split: EmergencySplit,
  target: string,
  holders: string[],
  contribution: ReshareContribution,
): void {
  const existing = getPendingReshare(state, split.patient);
  const pending: PendingReshare =
    existing !== undefined && existing.target === target && existing.from === splitVersion(split)
      ? existing
      : { patient: split.patient, target, holders, from: splitVersion(split), contributions: [] };
  const contributions = [...pending.contributions, contribution];
  if (contributions.length < split.threshold) {
    writeJson(state, emergencyKeys.reshare(split.patient), { ...pending, contributions } satisfies PendingReshare);
    return;
  }
  state.delete(emergencyKeys.reshare(split.patient));
  writeJson(state, emergencyKeys.split(split.patient), {
    patient: split.patient,
    emergencyKey: split.emergencyKey,
    threshold: emergencyThreshold(holders.length),
    shares: holders.map((validator, j) => ({
      validator,
      x: j + 1,
      parts: contributions.map((c) => c.parts[j] as DealtPart),
    })),
    // `at` stays the patient's registration of this key: a window opened before still calls for
    // rotation, since whoever held it may have rebuilt the key, and re-sharing changes no key.
    at: split.at,
    resharedAt: { height: ctx.height, time: ctx.time },
    holders: target,
    dealers: contributions.map((c) => c.x),
  } satisfies EmergencySplit);
}
