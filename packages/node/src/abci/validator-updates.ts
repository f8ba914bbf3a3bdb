// CometBFT's validator updates from MedLedger's governed validator sets (docs/cometbft.md
// "Validator-set changes"). A set decided at height H is in effect from H+2 in the
// application's record (ehr governance VALSET_DELAY); CometBFT applies the updates
// FinalizeBlock returns at H from H+2 too, so both say the same height.

/** One ABCI ValidatorUpdate: an Ed25519 key (hex) and its new power; 0 removes it. */
export interface ValidatorUpdate {
  publicKey: string;
  power: number;
}

/**
 * The updates that turn `before` into `after`: every key that left gets power 0, every key
 * that joined or changed power gets its power in `after`. A rotated key is the old key's
 * removal and the new key's addition. Sorted by key, so every validator returns the same
 * bytes (no dependence on the sets' order).
 */
export function validatorUpdates(
  before: ReadonlyArray<{ publicKey: string; power: number }>,
  after: ReadonlyArray<{ publicKey: string; power: number }>,
): ValidatorUpdate[] {
  const old = new Map(before.map((v) => [v.publicKey, v.power]));
  const now = new Map(after.map((v) => [v.publicKey, v.power]));
  const updates: ValidatorUpdate[] = [];
  for (const [publicKey] of old) if (!now.has(publicKey)) updates.push({ publicKey, power: 0 });
  for (const [publicKey, power] of now) if (old.get(publicKey) !== power) updates.push({ publicKey, power });
  return updates.sort((a, b) => (a.publicKey < b.publicKey ? -1 : a.publicKey > b.publicKey ? 1 : 0));
}
