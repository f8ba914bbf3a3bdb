// Governance rules as pure functions: proposals pass at more than 2/3 of the member
// organizations, one vote each, expire at their deadline in block time, and what they decide
// takes effect in the rules that read it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { generateSigningKeyPair, sealToPublicKey, signEd25519, toHex } from '@medledger/crypto';
import type { SignedTx } from '@medledger/ledger';
import { EhrApp, emergencyParams, initChain } from './app.js';
import { MemoryCommittedState } from './committed.js';
import {
  GOV_PARAMS,
  getProposal,
  govParams,
  latestValidatorSet,
  MAX_TX_BYTES,
  members,
  passingRule,
  type ValidatorSetChange,
  validatorKeysEver,
  validatorSetEffectiveAt,
} from './governance.js';
import { getIdentity } from './identity.js';
import { rotateProofBytes } from './staff.js';
import { keys, readJson } from './state.js';
import { type TestActor, testActor, testChain, testGenesis } from './testing/world.js';

const CHAIN = 'gov-test';
const T0 = 1_700_000_000_000;
const MINUTE = 60_000;

const actor = () => testActor(CHAIN);
type Actor = TestActor;

/** Four founding organizations and four validators; `block` applies a block one second later (or at `at`). */
function setup(params: Parameters<typeof testGenesis>[4] = {}) {
  const orgs = [actor(), actor(), actor(), actor()];
  const validators = [actor(), actor(), actor(), actor()];
  const genesis = testGenesis(CHAIN, T0, orgs, validators, params);
  const { state, app, block, height, now } = testChain(genesis);
  const o = orgs as [Actor, Actor, Actor, Actor];
  const propose = (by: Actor, action: Record<string, unknown>, votingPeriodMs = 10 * MINUTE) =>
    by.tx('gov.propose', { action, votingPeriodMs });
  const vote = (by: Actor, proposal: number, v: 'yes' | 'no') => by.tx('gov.vote', { proposal, vote: v });
  return { genesis, orgs: o, validators, state, app, block, propose, vote, height, now };
}

test('a proposal to admit an organization passes only with more than 2/3 of the members, one vote each', () => {
  const w = setup();
  const newcomer = actor();
  const admit = {
    type: 'org.admit',
    kind: 'clinic',
    name: 'Riverside Clinic',
    adminKey: newcomer.signing.publicKey,
    adminEncryptionKey: newcomer.encryption.publicKey,
  };
  assert.deepEqual(w.block([w.propose(w.orgs[0], admit)]), ['ok']);
  // One organization voting twice counts once: 2 distinct yes of 4 is not more than 2/3.
  assert.deepEqual(w.block([w.vote(w.orgs[0], 1, 'yes'), w.vote(w.orgs[0], 1, 'yes'), w.vote(w.orgs[1], 1, 'yes')]), [
    'ok',
    'ALREADY_VOTED',
    'ok',
  ]);
  assert.equal(getProposal(w.state, 1)?.status, 'open');
  assert.equal(getIdentity(w.state, newcomer.id), undefined);
  // A third yes: 3 of 4 > 2/3, the organization is admitted and becomes a member that can propose.
  assert.deepEqual(w.block([w.vote(w.orgs[2], 1, 'yes')]), ['ok']);
  const p = getProposal(w.state, 1);
  assert.equal(p?.status, 'passed');
  assert.deepEqual(p?.closedAt?.height, w.height());
  assert.equal(getIdentity(w.state, newcomer.id)?.orgKind, 'clinic');
  assert.ok(members(w.state).includes(newcomer.id));
  // A late vote on a closed proposal is refused.
  assert.deepEqual(w.block([w.vote(w.orgs[3], 1, 'no')]), ['PROPOSAL_CLOSED']);
  assert.deepEqual(w.block([w.propose(newcomer, { type: 'param.set', param: 'maxBlockTxs', value: 500 })]), ['ok']);
});

test('only an active member organization proposes or votes: patients, staff and validators are refused', () => {
  const w = setup();
  const patient = actor();
  w.block([patient.tx('identity.register', { role: 'patient', encryptionKey: patient.encryption.publicKey })]);
  const action = { type: 'param.set', param: 'maxBlockTxs', value: 10 };
  assert.deepEqual(w.block([w.propose(patient, action), w.propose(w.validators[0] as Actor, action)]), ['UNAUTHORIZED', 'UNAUTHORIZED']);
  assert.deepEqual(w.block([w.propose(w.orgs[0], action)]), ['ok']);
  assert.deepEqual(w.block([w.vote(patient, 1, 'yes')]), ['UNAUTHORIZED']);
});

test('a proposal that does not pass expires at its deadline in block time, and votes after it are refused', () => {
  const w = setup();
  assert.deepEqual(w.block([w.propose(w.orgs[0], { type: 'param.set', param: 'maxBlockTxs', value: 10 }, MINUTE)]), ['ok']);
  const deadline = getProposal(w.state, 1)?.deadline as number;
  assert.equal(deadline, w.now() + MINUTE);
  assert.deepEqual(w.block([w.vote(w.orgs[0], 1, 'yes')], deadline - 1), ['ok']);
  assert.equal(getProposal(w.state, 1)?.status, 'open');
  // The block at the deadline closes it before its votes are counted.
  assert.deepEqual(w.block([w.vote(w.orgs[1], 1, 'yes'), w.vote(w.orgs[2], 1, 'yes')], deadline), ['PROPOSAL_CLOSED', 'PROPOSAL_CLOSED']);
  assert.equal(getProposal(w.state, 1)?.status, 'expired');
  assert.deepEqual(readJson(w.state, keys.govOpen()), []);
  assert.equal(govParams(w.state).maxBlockTxs, undefined);
});

test('enough no votes reject a proposal before its deadline', () => {
  const w = setup();
  w.block([w.propose(w.orgs[0], { type: 'param.set', param: 'maxBlockTxs', value: 10 })]);
  // 2 no of 4: at most 2 yes remain, which is not more than 2/3.
  assert.deepEqual(w.block([w.vote(w.orgs[1], 1, 'no'), w.vote(w.orgs[2], 1, 'no')]), ['ok', 'ok']);
  assert.equal(getProposal(w.state, 1)?.status, 'rejected');
});

test('the passing rule changes only by the current rule, and then counts with the new one', () => {
  const w = setup();
  // A rule that a minority could meet is refused outright.
  assert.deepEqual(w.block([w.propose(w.orgs[0], { type: 'rule.set', numerator: 1, denominator: 3 })]), ['INVALID_BODY']);
  w.block([w.propose(w.orgs[0], { type: 'rule.set', numerator: 1, denominator: 2 })]);
  // 2 of 4 is not more than 2/3 (the rule in force): still open.
  w.block([w.vote(w.orgs[0], 1, 'yes'), w.vote(w.orgs[1], 1, 'yes')]);
  assert.equal(getProposal(w.state, 1)?.status, 'open');
  w.block([w.vote(w.orgs[2], 1, 'yes')]);
  assert.deepEqual(passingRule(w.state), { numerator: 1, denominator: 2 });
  // Under "more than 1/2", 3 of 4 passes and 2 of 4 does not.
  w.block([w.propose(w.orgs[0], { type: 'param.set', param: 'maxBlockTxs', value: 10 })]);
  w.block([w.vote(w.orgs[0], 2, 'yes'), w.vote(w.orgs[1], 2, 'yes')]);
  assert.equal(getProposal(w.state, 2)?.status, 'open');
  w.block([w.vote(w.orgs[3], 2, 'yes')]);
  assert.equal(getProposal(w.state, 2)?.status, 'passed');
});

test('a passed emergency window cap is the cap the emergency rule enforces from the next block', () => {
  const w = setup();
  const clinician = actor();
  const reason = {
    iv: toHex(randomBytes(12)),
    ct: toHex(randomBytes(40)),
    tag: toHex(randomBytes(16)),
    keys: [w.orgs[0], clinician].map((a) => ({ to: a.id, sealed: sealToPublicKey(a.encryption.publicKey, randomBytes(32)) })),
  };
  const open = (durationMs: number) => clinician.tx('emergency.access', { patient: w.orgs[1].id, reason, durationMs });
  // Under the genesis cap (4 h) a two-hour window passes the duration check (and is refused later, for other reasons).
  assert.deepEqual(w.block([open(2 * 60 * MINUTE)]), ['UNKNOWN_SIGNER']);
  w.block([w.propose(w.orgs[0], { type: 'param.set', param: 'emergencyMaxDurationMs', value: 30 * MINUTE })]);
  w.block([w.vote(w.orgs[0], 1, 'yes'), w.vote(w.orgs[1], 1, 'yes'), w.vote(w.orgs[2], 1, 'yes')]);
  assert.equal(govParams(w.state).emergencyMaxDurationMs, 30 * MINUTE);
  assert.deepEqual(w.block([open(2 * 60 * MINUTE)]), ['INVALID_BODY']);
  assert.deepEqual(w.block([open(20 * MINUTE)]), ['UNKNOWN_SIGNER']);
});

test('block limits may be lowered but never raised above genesis', () => {
  const w = setup();
  assert.deepEqual(w.block([w.propose(w.orgs[0], { type: 'param.set', param: 'maxBlockTxs', value: 1001 })]), ['INVALID_BODY']);
  assert.deepEqual(w.block([w.propose(w.orgs[0], { type: 'param.set', param: 'maxBlockTxs', value: 10 })]), ['ok']);
});

test('maxBlockBytes may not be voted below the largest admissible transaction (MAX_TX_BYTES), which would stall the chain', () => {
  // Genesis allows 4 MiB blocks here, so only the minimum is in question.
  const w = setup({ maxBlockBytes: 4 * MAX_TX_BYTES });
  for (const value of [1_024, 4_096, MAX_TX_BYTES - 1])
    assert.deepEqual(
      w.block([w.propose(w.orgs[0], { type: 'param.set', param: 'maxBlockBytes', value })]),
      ['INVALID_BODY'],
      String(value),
    );
  assert.deepEqual(w.block([w.propose(w.orgs[0], { type: 'param.set', param: 'maxBlockBytes', value: MAX_TX_BYTES })]), ['ok']);
  assert.equal(GOV_PARAMS.maxBlockBytes.min, MAX_TX_BYTES);
});

test('validator changes decided at H are recorded effective at H+2 and build on each other', () => {
  const w = setup();
  const fifth = actor();
  const v0 = w.validators[0] as Actor;
  w.block([
    w.propose(w.orgs[0], {
      type: 'validator.add',
      name: 'v4',
      publicKey: fifth.signing.publicKey,
      encryptionKey: fifth.encryption.publicKey,
      power: 1,
    }),
  ]);
  w.block([w.propose(w.orgs[0], { type: 'validator.remove', validator: v0.id })]);
  const next = generateSigningKeyPair();
  const v1 = w.validators[1] as Actor;
  const proof = signEd25519(next.privateKey, rotateProofBytes(CHAIN, v1.id, next.publicKey));
  // A rotation whose proof is not the new key's signature is refused when proposed.
  const badProof = signEd25519(generateSigningKeyPair().privateKey, rotateProofBytes(CHAIN, v1.id, next.publicKey));
  assert.deepEqual(
    w.block([w.propose(w.orgs[0], { type: 'validator.rotate', validator: v1.id, newPublicKey: next.publicKey, proof: badProof })]),
    ['BAD_SIGNATURE'],
  );
  w.block([w.propose(w.orgs[0], { type: 'validator.rotate', validator: v1.id, newPublicKey: next.publicKey, proof })]);
  // Proposals 1, 2 and 3 all pass in one block at height H.
  const yes = [1, 2, 3].flatMap((id) => [0, 1, 2].map((i) => w.vote(w.orgs[i] as Actor, id, 'yes')));
  assert.ok(w.block(yes).every((c) => c === 'ok'));
  const h = w.height();
  for (const id of [1, 2, 3]) assert.equal(getProposal(w.state, id)?.effectiveHeight, h + 2);
  const change = readJson<ValidatorSetChange>(w.state, keys.govValset(h + 2));
  assert.deepEqual(
    change?.validators.map((v) => v.name),
    ['v1', 'v2', 'v3', 'v4'],
  );
  assert.equal(change?.validators[0]?.publicKey, next.publicKey);
  assert.deepEqual(latestValidatorSet(w.state), change?.validators);
  assert.equal(getIdentity(w.state, v0.id)?.status, 'revoked');
  assert.equal(getIdentity(w.state, v1.id)?.publicKey, next.publicKey);
  // The genesis set in meta/validators is untouched: the history is in gov/valset/* (validatorSetEffectiveAt).
  assert.equal(readJson<{ validators: unknown[] }>(w.state, keys.validatorSet())?.validators.length, 4);
});

test('validatorSetEffectiveAt gives the genesis set until the first change takes effect, then each recorded set from its effective height', () => {
  const entry = (name: string, power = 1) => ({ id: name, name, publicKey: name.repeat(32), encryptionKey: name.repeat(32), power });
  const genesisSet = [entry('a'), entry('b')];
  const added = [entry('a'), entry('b'), entry('c')];
  const reweighted = [entry('b', 3), entry('c')];
  const stored = new Map<string, string>([
    [keys.validatorSet(), JSON.stringify({ validators: genesisSet })],
    [keys.govValset(5), JSON.stringify({ effectiveHeight: 5, decidedAt: 3, proposal: 1, validators: added })],
    [keys.govValset(12), JSON.stringify({ effectiveHeight: 12, decidedAt: 10, proposal: 2, validators: reweighted })],
  ]);
  // A store's ordered scan: `after` is exclusive, in scan order (storage NodeStore.scanState).
  const state = {
    getState: (key: string) => stored.get(key),
    scanState: (prefix: string, opts: { after?: string; limit?: number; reverse?: boolean } = {}) => {
      const sorted = [...stored.keys()].filter((k) => k.startsWith(prefix)).sort();
      const ordered = opts.reverse === true ? sorted.reverse() : sorted;
      const after = opts.after;
      const kept = after === undefined ? ordered : ordered.filter((k) => (opts.reverse === true ? k < after : k > after));
      return kept.slice(0, opts.limit ?? kept.length).map((k): [string, string] => [k, stored.get(k) as string]);
    },
  };
  const names = (height: number) => validatorSetEffectiveAt(state, height).map((v) => `${v.name}${v.power}`);
  for (const h of [1, 4]) assert.deepEqual(names(h), ['a1', 'b1'], `height ${h}`);
  for (const h of [5, 11]) assert.deepEqual(names(h), ['a1', 'b1', 'c1'], `height ${h}`);
  for (const h of [12, 1_000_000]) assert.deepEqual(names(h), ['b3', 'c1'], `height ${h}`);
  // Every key that has been a validator, genesis first: what CometBFT's offender addresses map to.
  assert.deepEqual(
    validatorKeysEver(state),
    ['a', 'b', 'c'].map((n) => n.repeat(32)),
  );
});

test('a suspended organization cannot vote and neither can its staff sign; reinstating restores both', () => {
  const w = setup();
  const [a, b, c, d] = w.orgs;
  const nurse = actor();
  w.block([d.tx('staff.register', { publicKey: nurse.signing.publicKey, encryptionKey: nurse.encryption.publicKey, role: 'clinician' })]);
  w.block([w.propose(a, { type: 'org.suspend', org: d.id })]);
  w.block([w.vote(a, 1, 'yes'), w.vote(b, 1, 'yes'), w.vote(c, 1, 'yes')]);
  assert.equal(getIdentity(w.state, d.id)?.status, 'suspended');
  const patient = actor();
  assert.deepEqual(
    w.block([w.propose(d, { type: 'param.set', param: 'maxBlockTxs', value: 9 }), nurse.tx('staff.revoke', { id: nurse.id })]),
    ['REVOKED', 'REVOKED'],
  );
  // With d suspended, 3 active members remain: 2 yes of 3 is not more than 2/3, 3 of 3 is.
  w.block([
    w.propose(a, { type: 'org.reinstate', org: d.id }),
    patient.tx('identity.register', { role: 'patient', encryptionKey: patient.encryption.publicKey }),
  ]);
  w.block([w.vote(a, 2, 'yes'), w.vote(b, 2, 'yes')]);
  assert.equal(getProposal(w.state, 2)?.status, 'open');
  w.block([w.vote(c, 2, 'yes')]);
  assert.equal(getIdentity(w.state, d.id)?.status, 'active');
});

test('a passed proposal whose action no longer applies is recorded as failed and changes nothing', () => {
  const w = setup();
  const [a, b, c, d] = w.orgs;
  w.block([w.propose(a, { type: 'org.suspend', org: d.id }), w.propose(b, { type: 'org.suspend', org: d.id })]);
  w.block([w.vote(a, 1, 'yes'), w.vote(b, 1, 'yes'), w.vote(c, 1, 'yes')]);
  assert.equal(getProposal(w.state, 1)?.status, 'passed');
  // d is suspended now: 3 members count; 3 yes pass proposal 2, which cannot suspend d again.
  w.block([w.vote(a, 2, 'yes'), w.vote(b, 2, 'yes'), w.vote(c, 2, 'yes')]);
  const p = getProposal(w.state, 2);
  assert.equal(p?.status, 'failed');
  assert.match(p?.reason ?? '', /WRONG_STATE/);
});

test('every validator computes the same app hash for the same governance blocks', () => {
  const w1 = setup();
  const exec = (app: EhrApp, txs: SignedTx[]) => app.finalizeBlock({ height: 1, time: T0 + 1000, txs }).appHash;
  const txs = [w1.propose(w1.orgs[0], { type: 'param.set', param: 'maxBlockTxs', value: 10 }), w1.vote(w1.orgs[0], 1, 'yes')];
  const again = new MemoryCommittedState();
  again.apply(initChain(w1.genesis));
  assert.equal(exec(w1.app, txs), exec(new EhrApp(CHAIN, again, emergencyParams(w1.genesis)), txs));
});

test('an admitted insurer holds the insurer role, as a founding one does', () => {
  const w = setup();
  const insurer = actor();
  const admit = {
    type: 'org.admit',
    kind: 'insurer',
    name: 'Blue Lake Insurance',
    adminKey: insurer.signing.publicKey,
    adminEncryptionKey: insurer.encryption.publicKey,
  };
  w.block([w.propose(w.orgs[0], admit)]);
  w.block([w.vote(w.orgs[0], 1, 'yes'), w.vote(w.orgs[1], 1, 'yes'), w.vote(w.orgs[2], 1, 'yes')]);
  assert.equal(getIdentity(w.state, insurer.id)?.role, 'insurer');
  // A key already registered cannot be admitted again.
  assert.deepEqual(w.block([w.propose(w.orgs[0], admit)]), ['ALREADY_REGISTERED']);
});

test('a validator governance removed no longer writes access events into a patient’s log', () => {
  const w = setup();
  const [a, b, c] = w.orgs;
  const v0 = w.validators[0] as Actor;
  const patient = actor();
  w.block([patient.tx('identity.register', { role: 'patient', encryptionKey: patient.encryption.publicKey })]);
  const event = (id: string) => ({
    id,
    record: toHex(randomBytes(16)),
    patient: patient.id,
    accessor: patient.id,
    purpose: 'treatment',
    decision: 'allowed',
    reason: 'OK',
    emergency: true,
    at: T0,
  });
  assert.deepEqual(w.block([v0.tx('access.event', { events: [event('before')] })]), ['ok']);
  w.block([w.propose(a, { type: 'validator.remove', validator: v0.id })]);
  w.block([w.vote(a, 1, 'yes'), w.vote(b, 1, 'yes'), w.vote(c, 1, 'yes')]);
  assert.equal(getIdentity(w.state, v0.id)?.status, 'revoked');
  // Its key is revoked: a forged "emergency read" (or a flood of them) must not reach the log.
  assert.deepEqual(w.block([v0.tx('access.event', { events: [event('after')] })]), ['REVOKED']);
  assert.equal(w.state.getState(keys.accessCount('all', patient.id)), '1');
  // The validators still in the set keep reporting.
  assert.deepEqual(w.block([(w.validators[1] as Actor).tx('access.event', { events: [event('other')] })]), ['ok']);
});

test('the last active member organization can be neither suspended nor removed: governance would be frozen for good', () => {
  const [a, b] = [actor(), actor()];
  const genesis = testGenesis(CHAIN, T0, [a, b], [actor()]);
  const w = testChain(genesis);
  const propose = (by: Actor, action: Record<string, unknown>) => by.tx('gov.propose', { action, votingPeriodMs: 10 * MINUTE });
  // Both members agree to suspend b: a stays active.
  assert.deepEqual(w.block([propose(a, { type: 'org.suspend', org: b.id })]), ['ok']);
  assert.deepEqual(w.block([a.tx('gov.vote', { proposal: 1, vote: 'yes' }), b.tx('gov.vote', { proposal: 1, vote: 'yes' })]), ['ok', 'ok']);
  assert.equal(getProposal(w.state, 1)?.status, 'passed');
  // a alone may not suspend or remove itself: nobody could ever propose or vote again, not even to reinstate b.
  assert.deepEqual(w.block([propose(a, { type: 'org.suspend', org: a.id })]), ['WRONG_STATE']);
  assert.deepEqual(w.block([propose(a, { type: 'org.remove', org: a.id })]), ['WRONG_STATE']);
  assert.equal(getIdentity(w.state, a.id)?.status, 'active');
  // Reinstating b still works, and then either may go.
  assert.deepEqual(w.block([propose(a, { type: 'org.reinstate', org: b.id })]), ['ok']);
  assert.deepEqual(w.block([a.tx('gov.vote', { proposal: 2, vote: 'yes' })]), ['ok']);
  assert.equal(getIdentity(w.state, b.id)?.status, 'active');
  assert.deepEqual(w.block([propose(b, { type: 'org.remove', org: a.id })]), ['ok']);
});

test('one member cannot hold every open proposal slot: at most 10 of its own are open at once', () => {
  const w = setup();
  const [a, b] = w.orgs;
  const params = (by: Actor, from: number, n: number) =>
    Array.from({ length: n }, (_, i) => w.propose(by, { type: 'param.set', param: 'maxBlockTxs', value: from + i }));
  assert.deepEqual(w.block(params(a, 100, 10)), Array(10).fill('ok'));
  assert.deepEqual(w.block(params(a, 200, 1)), ['TOO_MANY_PROPOSALS']);
  // Another member still proposes (e.g. to suspend the first).
  assert.deepEqual(w.block([w.propose(b, { type: 'org.suspend', org: a.id })]), ['ok']);
  // Once one of a's proposals is decided, a may open another.
  assert.deepEqual(w.block([w.vote(b, 1, 'no'), w.vote(w.orgs[2], 1, 'no')]), ['ok', 'ok']);
  assert.equal(getProposal(w.state, 1)?.status, 'rejected');
  assert.deepEqual(w.block(params(a, 300, 1)), ['ok']);
});

test('a validator cannot move its identity off its consensus key with identity.rotate; governance rotates both', () => {
  const w = setup();
  const v0 = w.validators[0] as Actor;
  const next = generateSigningKeyPair();
  const proof = signEd25519(next.privateKey, rotateProofBytes(CHAIN, v0.id, next.publicKey));
  // Else the set would keep signing with a key no identity holds, and evidence of its equivocation would be dropped.
  assert.deepEqual(w.block([v0.tx('identity.rotate', { newPublicKey: next.publicKey, proof })]), ['UNAUTHORIZED']);
  assert.equal(getIdentity(w.state, v0.id)?.publicKey, v0.signing.publicKey);
  assert.deepEqual(w.block([w.propose(w.orgs[0], { type: 'validator.rotate', validator: v0.id, newPublicKey: next.publicKey, proof })]), [
    'ok',
  ]);
});
