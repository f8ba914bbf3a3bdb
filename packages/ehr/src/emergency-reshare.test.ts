// Re-sharing emergency keys when the validator set changes, as pure rules over real
// cryptography: which dealings count, when the new split goes live, that the new set (a
// newcomer included) rebuilds the key, and that a removed validator's old share no longer helps.
// Shamir coefficients come from a seeded generator; a failing run prints its seed.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import {
  combineShares,
  dealSecret,
  encryptionPublicKeyFromPrivate,
  fromHex,
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  interpolateAtZero,
  openEnvelope,
  type Share,
  sealToPublicKey,
  shareCommitment,
  signEd25519,
  splitSecret,
  toHex,
  utf8,
} from '@medledger/crypto';
import { signTx } from '@medledger/ledger';
import { getSplit, getWindow, registeredShareAad } from './emergency.js';
import { dealtShareAad, getPendingReshare } from './emergency-reshare.js';
import {
  type DealtShare,
  type EmergencySplit,
  emergencyHolders,
  emergencyHoldersHash,
  isDealtShare,
  type RegisteredShare,
  splitVersion,
} from './emergency-split.js';
import { rotateProofBytes } from './staff.js';
import { type TestActor, testActor, testChain, testGenesis } from './testing/world.js';

const CHAIN = 'reshare-test';
const T0 = 1_700_000_000_000;
const SEED = Number(process.env.RESHARE_SEED ?? Date.now() % 1_000_000);

// A seeded byte source for Shamir coefficients (SHA-256 in counter mode), so runs replay.
function seededRandom(seed: number) {
  let counter = 0;
  return (len: number): Uint8Array => {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i += 32) {
      const block = createHash('sha256').update(`${seed}/${counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, len - i)), i);
    }
    return out;
  };
}
const random = seededRandom(SEED);

const actor = () => testActor(CHAIN);
type Actor = TestActor;

/** Two member organizations, four validators, a patient whose real emergency key is split among them. */
function setup() {
  const orgs = [actor(), actor()] as [Actor, Actor];
  const validators = [actor(), actor(), actor(), actor()];
  const genesis = testGenesis(CHAIN, T0, orgs, validators, { maxBlockBytes: 1 << 22 });
  const { state, block, now } = testChain(genesis);
  // Both members vote yes: 2 of 2 is more than 2/3; the change is decided in that block.
  let proposals = 0;
  const govern = (action: Record<string, unknown>) => {
    proposals += 1;
    assert.deepEqual(block([orgs[0].tx('gov.propose', { action, votingPeriodMs: 600_000 })]), ['ok']);
    assert.deepEqual(
      block([orgs[0].tx('gov.vote', { proposal: proposals, vote: 'yes' }), orgs[1].tx('gov.vote', { proposal: proposals, vote: 'yes' })]),
      ['ok', 'ok'],
    );
  };
  const patient = actor();
  const emergency = generateEncryptionKeyPair();
  const secret = fromHex(emergency.privateKey);
  const shares = splitSecret(secret, 4, 3, random);
  const split = {
    emergencyKey: emergency.publicKey,
    threshold: 3,
    shares: shares.map((s, i) => {
      const v = validators[i] as Actor;
      return {
        validator: v.id,
        x: s.x,
        commitment: shareCommitment(s),
        sealed: sealToPublicKey(v.encryption.publicKey, fromHex(s.y), utf8(registeredShareAad(patient.id, v.id, emergency.publicKey))),
      };
    }),
  };
  assert.deepEqual(
    block([
      patient.tx('identity.register', { role: 'patient', encryptionKey: patient.encryption.publicKey, emergencyKey: emergency.publicKey }),
      patient.tx('emergency.split', split),
    ]),
    ['ok', 'ok'],
  );
  return { orgs, validators, state, block, govern, patient, emergency, shares, now };
}
type World = ReturnType<typeof setup>;

/** The plain share `v` holds of `split` (the patient's, or combined from its dealt sub-shares). */
function heldShare(split: EmergencySplit, v: Actor): Share {
  const mine = split.shares.find((s) => s.validator === v.id);
  assert.ok(mine !== undefined, 'a holder');
  if (!isDealtShare(mine)) {
    const y = openEnvelope(
      v.encryption.privateKey,
      (mine as RegisteredShare).sealed,
      utf8(registeredShareAad(split.patient, v.id, split.emergencyKey)),
    );
    return { x: mine.x, y: toHex(y) };
  }
  const parts = (mine as DealtShare).parts.map((p, i) => {
    const dealerX = split.dealers?.[i] as number;
    const y = openEnvelope(
      v.encryption.privateKey,
      p.sealed,
      utf8(dealtShareAad(split.patient, split.holders as string, dealerX, v.id, split.emergencyKey)),
    );
    assert.equal(shareCommitment({ x: mine.x, y: toHex(y) }), p.commitment, 'each sub-share matches its dealer’s commitment');
    return { x: dealerX, y: toHex(y) };
  });
  return { x: mine.x, y: toHex(interpolateAtZero(parts)) };
}

/** `dealer`'s `emergency.reshare` item for `patient`: its share dealt to the current holders, as the node's agent builds it. */
function dealing(w: World, dealer: Actor, patient = w.patient.id) {
  const split = getSplit(w.state, patient) as EmergencySplit;
  const holders = emergencyHolders(w.state);
  const target = emergencyHoldersHash(holders);
  const own = heldShare(split, dealer);
  const k = Math.floor((2 * holders.length) / 3) + 1;
  const subs = dealSecret(fromHex(own.y), holders.length, k, random);
  return {
    target,
    item: {
      patient,
      from: splitVersion(split),
      x: own.x,
      shares: subs.map((s, j) => {
        const h = holders[j] as { id: string; encryptionKey: string };
        return {
          validator: h.id,
          x: s.x,
          commitment: shareCommitment(s),
          sealed: sealToPublicKey(h.encryptionKey, fromHex(s.y), utf8(dealtShareAad(patient, target, own.x, h.id, split.emergencyKey))),
        };
      }),
    },
  };
}
const reshareTx = (w: World, dealer: Actor) => {
  const { target, item } = dealing(w, dealer);
  return dealer.tx('emergency.reshare', { target, items: [item] });
};

const rebuilds = (w: World, shares: Share[]) => {
  const key = toHex(shares.length === 1 ? fromHex((shares[0] as Share).y) : combineShares(shares));
  return encryptionPublicKeyFromPrivate(key) === w.emergency.publicKey;
};

test(`after a validator is added, the first k old holders' dealings make a split the new set rebuilds, the newcomer included (seed ${SEED})`, () => {
  const w = setup();
  const newcomer = actor();
  w.govern({
    type: 'validator.add',
    name: 'v4',
    publicKey: newcomer.signing.publicKey,
    encryptionKey: newcomer.encryption.publicKey,
    power: 1,
  });
  const [v0, v1, v2, v3] = w.validators as [Actor, Actor, Actor, Actor];
  const before = getSplit(w.state, w.patient.id) as EmergencySplit;
  // The newcomer holds nothing of the old split, so it cannot deal.
  const first = reshareTx(w, v0);
  assert.throws(() => dealing(w, newcomer));
  assert.deepEqual(w.block([first, reshareTx(w, v1)]), ['ok', 'ok']);
  // Two of the three dealings needed: the old split is still the live one.
  assert.deepEqual(getSplit(w.state, w.patient.id), before);
  assert.equal(getPendingReshare(w.state, w.patient.id)?.contributions.length, 2);
  // The third completes it; a fourth, racing in the same block, is skipped as not needed.
  assert.deepEqual(w.block([reshareTx(w, v2), reshareTx(w, v3)]), ['ok', 'ok']);
  const after = getSplit(w.state, w.patient.id) as EmergencySplit;
  assert.equal(getPendingReshare(w.state, w.patient.id), undefined);
  assert.equal(after.threshold, 4, 'more than 2/3 of five');
  assert.deepEqual(after.dealers, [1, 2, 3], 'the first three dealings in commit order count');
  assert.deepEqual(
    after.shares.map((s) => s.validator),
    [v0.id, v1.id, v2.id, v3.id, newcomer.id],
  );
  assert.equal(after.holders, emergencyHoldersHash(emergencyHolders(w.state)));
  // The new set rebuilds the key with four of five shares, the newcomer's among them; three do not.
  const fresh = [v1, v2, v3, newcomer].map((v) => heldShare(after, v));
  assert.ok(rebuilds(w, fresh));
  assert.ok(!rebuilds(w, fresh.slice(1)));
  // The key itself is nowhere in state: no value holds the private key's hex.
  for (const [key, value] of w.state.values.entries()) assert.ok(!value.includes(w.emergency.privateKey), `${key} does not hold the key`);
});

test(`a removed validator's old share no longer helps once the new split is live (seed ${SEED})`, () => {
  const w = setup();
  const [v0, v1, v2, v3] = w.validators as [Actor, Actor, Actor, Actor];
  const removedOldShare = w.shares[0] as Share;
  w.govern({ type: 'validator.remove', validator: v0.id });
  // Removed: it can deal nothing (its identity is revoked the block the vote passed).
  const stale = dealing(w, v0);
  assert.deepEqual(w.block([v0.tx('emergency.reshare', { target: stale.target, items: [stale.item] })]), ['REVOKED']);
  assert.deepEqual(w.block([reshareTx(w, v1), reshareTx(w, v2), reshareTx(w, v3)]), ['ok', 'ok', 'ok']);
  const after = getSplit(w.state, w.patient.id) as EmergencySplit;
  assert.equal(after.threshold, 3);
  assert.deepEqual(
    after.shares.map((s) => s.validator),
    [v1.id, v2.id, v3.id],
  );
  const fresh = [v1, v2, v3].map((v) => heldShare(after, v));
  assert.ok(rebuilds(w, fresh));
  // The attack: the removed validator brings its old share to fewer than k holders of the new
  // split. The shares lie on different polynomials, so the result is not the key.
  for (const pair of [
    [0, 1],
    [0, 2],
    [1, 2],
  ]) {
    const two = pair.map((i) => fresh[i] as Share);
    assert.ok(!rebuilds(w, [removedOldShare, ...two.filter((s) => s.x !== removedOldShare.x)]));
    assert.ok(!rebuilds(w, two));
  }
});

test('a dealing to a set that is no longer current is RESHARE_STALE; malformed or foreign dealings are refused', () => {
  const w = setup();
  const [v0, v1] = w.validators as [Actor, Actor];
  const n1 = actor();
  w.govern({ type: 'validator.add', name: 'v4', publicKey: n1.signing.publicKey, encryptionKey: n1.encryption.publicKey, power: 1 });
  const early = dealing(w, v0);
  const n2 = actor();
  w.govern({ type: 'validator.add', name: 'v5', publicKey: n2.signing.publicKey, encryptionKey: n2.encryption.publicKey, power: 1 });
  assert.deepEqual(w.block([v0.tx('emergency.reshare', { target: early.target, items: [early.item] })]), ['RESHARE_STALE']);
  const { target, item } = dealing(w, v1);
  // Shares in another order, one missing, or for another x are refused outright.
  assert.deepEqual(w.block([v1.tx('emergency.reshare', { target, items: [{ ...item, shares: [...item.shares].reverse() }] })]), [
    'INVALID_BODY',
  ]);
  assert.deepEqual(w.block([v1.tx('emergency.reshare', { target, items: [{ ...item, shares: item.shares.slice(1) }] })]), ['INVALID_BODY']);
  assert.deepEqual(w.block([v1.tx('emergency.reshare', { target, items: [{ ...item, x: 1 }] })]), ['INVALID_BODY']);
  assert.deepEqual(w.block([v1.tx('emergency.reshare', { target, items: [item, item] })]), ['INVALID_BODY']);
  // Only validators deal.
  assert.deepEqual(w.block([w.patient.tx('emergency.reshare', { target, items: [item] })]), ['UNAUTHORIZED']);
  // The right one counts once: dealing again is skipped, not counted twice.
  assert.deepEqual(w.block([v1.tx('emergency.reshare', { target, items: [item] })]), ['ok']);
  assert.deepEqual(w.block([v1.tx('emergency.reshare', { target, items: [dealing(w, v1).item] })]), ['ok']);
  assert.equal(getPendingReshare(w.state, w.patient.id)?.contributions.length, 1);
});

test(`a window open during re-sharing keeps its split until it closes; the holders of a re-shared split post one sub-share per dealer (seed ${SEED})`, () => {
  const w = setup();
  const [v0, v1, v2] = w.validators as [Actor, Actor, Actor];
  const [org] = w.orgs;
  const clinician = actor();
  const sealed = (to: Actor) => ({ to: to.id, sealed: sealToPublicKey(to.encryption.publicKey, new Uint8Array(32)) });
  const reason = {
    iv: toHex(new Uint8Array(12)),
    ct: toHex(new Uint8Array(40).fill(1)),
    tag: toHex(new Uint8Array(16)),
    keys: [sealed(w.patient), sealed(clinician), sealed(org)],
  };
  assert.deepEqual(
    w.block([
      org.tx('staff.register', {
        publicKey: clinician.signing.publicKey,
        encryptionKey: clinician.encryption.publicKey,
        role: 'clinician',
      }),
    ]),
    ['ok'],
  );
  assert.deepEqual(w.block([org.tx('emergency.privilege', { clinician: clinician.id, grant: true })]), ['ok']);
  const newcomer = actor();
  w.govern({
    type: 'validator.add',
    name: 'v4',
    publicKey: newcomer.signing.publicKey,
    encryptionKey: newcomer.encryption.publicKey,
    power: 1,
  });
  assert.deepEqual(w.block([reshareTx(w, v0), reshareTx(w, v1)]), ['ok', 'ok']);
  assert.deepEqual(w.block([clinician.tx('emergency.access', { patient: w.patient.id, reason, durationMs: 10_000 })]), ['ok']);
  // The third dealing is skipped while the window is open: its holders answer from the old split.
  assert.deepEqual(w.block([reshareTx(w, v2)]), ['ok']);
  assert.equal(getSplit(w.state, w.patient.id)?.dealers, undefined);
  while (w.now() < T0 + 60_000) w.block([]);
  assert.deepEqual(w.block([reshareTx(w, v2)]), ['ok']);
  const after = getSplit(w.state, w.patient.id) as EmergencySplit;
  assert.deepEqual(after.dealers, [1, 2, 3]);
  // A new window on the re-shared split: each holder posts its three sub-shares together.
  assert.deepEqual(w.block([clinician.tx('emergency.access', { patient: w.patient.id, reason, durationMs: 10_000 })]), ['ok']);
  const windowId = [...w.state.values.entries()]
    .filter(([k]) => k.startsWith('emergency/window/'))
    .map(([, v]) => JSON.parse(v))
    .find((x) => x.dealers !== undefined)?.id as string;
  const window = getWindow(w.state, windowId);
  assert.deepEqual(window?.dealers, [1, 2, 3]);
  assert.equal(window?.commitments[4]?.parts?.length, 3);
  const one = sealToPublicKey(clinician.encryption.publicKey, new Uint8Array(32));
  const three = sealToPublicKey(clinician.encryption.publicKey, new Uint8Array(96));
  assert.deepEqual(w.block([newcomer.tx('emergency.share', { window: windowId, x: 5, sealed: one })]), ['INVALID_BODY']);
  assert.deepEqual(w.block([newcomer.tx('emergency.share', { window: windowId, x: 5, sealed: three })]), ['ok']);
});

test(`a validator whose encryption key is rotated by vote deals with its old key and holds its new share under the new one (seed ${SEED})`, () => {
  const w = setup();
  const [v0, v1, v2] = w.validators as [Actor, Actor, Actor];
  const nextSigning = generateSigningKeyPair();
  const nextEncryption = generateEncryptionKeyPair();
  const proof = signEd25519(nextSigning.privateKey, rotateProofBytes(CHAIN, v1.id, nextSigning.publicKey));
  const target0 = emergencyHoldersHash(emergencyHolders(w.state));
  w.govern({
    type: 'validator.rotate',
    validator: v1.id,
    newPublicKey: nextSigning.publicKey,
    proof,
    encryptionKey: nextEncryption.publicKey,
  });
  // Same validators, one new encryption key: the holder set is a new one, so the split is due.
  assert.notEqual(emergencyHoldersHash(emergencyHolders(w.state)), target0);
  // After the rotation v1 signs with its new key; it opens its old share with the old encryption key.
  let nonce = 0;
  const v1Rotated: Actor = {
    ...v1,
    tx: (kind, body) => signTx({ v: 1, chain: CHAIN, kind, signer: nextSigning.publicKey, nonce: nonce++, body }, nextSigning.privateKey),
  };
  assert.deepEqual(w.block([reshareTx(w, v0), reshareTx(w, v1Rotated), reshareTx(w, v2)]), ['ok', 'ok', 'ok']);
  const after = getSplit(w.state, w.patient.id) as EmergencySplit;
  assert.equal(after.holders, emergencyHoldersHash(emergencyHolders(w.state)));
  // Its new share opens with the new encryption key only.
  const v1New: Actor = { ...v1, encryption: nextEncryption };
  assert.throws(() => heldShare(after, v1));
  const fresh = [v0, v1New, v2].map((v) => heldShare(after, v));
  assert.ok(rebuilds(w, fresh));
});
