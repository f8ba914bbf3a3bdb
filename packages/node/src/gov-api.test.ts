// Governance over HTTP on a real node: one organization cannot change the consortium alone,
// more than 2/3 of the members can; what passes takes effect in the rules that read it (block
// size, emergency window cap, vault quotas); validator-set changes are recorded effective at
// H+2; proposals are proven to members and hidden from patients; every list pages.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  ClientError,
  govMembers,
  govParams,
  govProposal,
  govProposals,
  govPropose,
  govValidatorSets,
  govVote,
  MedLedgerClient,
  TrustedGenesis,
} from '@medledger/client';
import { generateKeyBundle, idFromPublicKey } from '@medledger/crypto';
import { readOrgKey } from './home.js';
import { get, startSoloNode, TEST_PASSPHRASE, type TestNode, waitFor } from './testing/harness.js';

let t: TestNode;
before(async () => {
  t = await startSoloNode({
    organizations: [
      { name: 'General Hospital', kind: 'hospital' },
      { name: 'Riverside Clinic', kind: 'clinic' },
      { name: 'Northside Lab', kind: 'lab' },
      { name: 'Evergreen Health Insurance', kind: 'insurer' },
    ],
  });
});
after(async () => {
  await t.cleanup();
});

const home = () => join(t.dir, 'node0');
const trusted = () => TrustedGenesis.fromDocument(t.node.chain.genesis);
const client = (keys: ReturnType<typeof generateKeyBundle>) => new MedLedgerClient({ genesis: trusted(), url: t.url, keys });
const org = (file: string) => client(readOrgKey(home(), { file, passphrase: TEST_PASSPHRASE }));
const HOUR = 60 * 60_000;

const refusal = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    if (err instanceof ClientError) return { code: err.code, status: err.status };
    throw err;
  }
  return undefined;
};

test('one organization cannot admit a member alone; more than 2/3 of the members can, and the newcomer then governs', async () => {
  const [hospital, clinic, lab] = [org('org.key'), org('org-riverside-clinic.key'), org('org-northside-lab.key')];
  const newcomer = generateKeyBundle();
  const admit = {
    type: 'org.admit' as const,
    kind: 'pharmacy',
    name: 'Main Street Pharmacy',
    adminKey: newcomer.signing.publicKey,
    adminEncryptionKey: newcomer.encryption.publicKey,
  };
  const p = await govPropose(hospital, admit, HOUR);
  assert.equal(p.status, 'open');
  assert.ok(p.provenAt !== undefined && p.provenAt >= p.createdAt.height, 'the proposal is proven against the trusted genesis');
  assert.equal(p.deadline, p.createdAt.time + HOUR);
  // The proposer voting twice still counts once, and 2 of 4 is not more than 2/3.
  await govVote(hospital, p.id, true);
  assert.deepEqual(await refusal(govVote(hospital, p.id, true)), { code: 'ALREADY_VOTED', status: 409 });
  const two = await govVote(clinic, p.id, true);
  assert.equal(two.status, 'open');
  assert.deepEqual(two.tally, { yes: 2, no: 0, members: 4, needed: 3 });
  assert.equal((await get(`${t.url}/v1/identities/${idFromPublicKey(newcomer.signing.publicKey)}`)).status, 404);

  const passed = await govVote(lab, p.id, true);
  assert.equal(passed.status, 'passed');
  const pharmacy = client(newcomer);
  const members = await govMembers(pharmacy);
  assert.ok(members.items.some((m) => m.name === 'Main Street Pharmacy' && m.kind === 'pharmacy' && m.status === 'active'));
  // A vote after it passed is refused with a stable code.
  assert.deepEqual(await refusal(govVote(org('org-evergreen-health-insurance.key'), p.id, false)), {
    code: 'PROPOSAL_CLOSED',
    status: 409,
  });
});

test('patients and anonymous callers do not see governance; non-members cannot propose', async () => {
  const patient = client(generateKeyBundle());
  await patient.registerPatient();
  assert.deepEqual(await refusal(govProposals(patient)), { code: 'ACCESS_DENIED', status: 403 });
  assert.equal((await get(`${t.url}/v1/gov/proposals`)).status, 401);
  // The proof route applies the same rule to the proposal's state key.
  assert.deepEqual(await refusal(patient.verified('test').read(['gov/proposal/000000000001'])), { code: 'ACCESS_DENIED', status: 403 });
  assert.deepEqual(await refusal(govPropose(patient, { type: 'param.set', param: 'maxBlockTxs', value: 5 }, HOUR)), {
    code: 'UNAUTHORIZED',
    status: 403,
  });
  assert.deepEqual(await refusal(govProposal(org('org.key'), 999)), { code: 'PROPOSAL_NOT_FOUND', status: 404 });
});

/** Propose `action` from the hospital and pass it with three yes votes. */
async function pass(action: Parameters<typeof govPropose>[1]) {
  const voters = [org('org.key'), org('org-riverside-clinic.key'), org('org-northside-lab.key'), org('org-evergreen-health-insurance.key')];
  const p = await govPropose(voters[0] as MedLedgerClient, action, HOUR);
  let last = p;
  // Five members now (the pharmacy joined): four yes are more than 2/3.
  for (const v of voters) last = await govVote(v, p.id, true);
  assert.equal(last.status, 'passed', JSON.stringify(last));
  return last;
}

test('a block size lowered by vote is the size the proposer builds and the validators accept', async () => {
  await pass({ type: 'param.set', param: 'maxBlockTxs', value: 2 });
  const before = t.node.chain.height;
  const patients = Array.from({ length: 6 }, () => client(generateKeyBundle()));
  const submitted = await Promise.all(
    patients.map((p) => p.submit('identity.register', { role: 'patient', encryptionKey: p.keys.encryption.publicKey })),
  );
  await Promise.all(submitted.map((s, i) => (patients[i] as MedLedgerClient).waitForTx(s.hash)));
  const sizes: number[] = [];
  for (let h = before + 1; h <= t.node.chain.height; h++) sizes.push((await get(`${t.url}/v1/blocks/${h}`)).json.leaves.length);
  assert.ok(sizes.length >= 3 && sizes.every((n) => n <= 2), `blocks after the vote hold at most 2 txs: ${sizes}`);
  const params = await govParams(org('org.key'));
  assert.deepEqual((params.inForce as { maxBlockTxs: number }).maxBlockTxs, 2);
  // Back to the genesis limit (raising above it is refused).
  assert.deepEqual(await refusal(govPropose(org('org.key'), { type: 'param.set', param: 'maxBlockTxs', value: 10_000 }, HOUR)), {
    code: 'INVALID_BODY',
    status: 400,
  });
  await pass({ type: 'param.set', param: 'maxBlockTxs', value: 5000 });
});

test('an emergency window cap and a vault quota passed by vote are the ones the node enforces', async () => {
  await pass({ type: 'param.set', param: 'emergencyMaxDurationMs', value: 30 * 60_000 });
  assert.equal((await get(`${t.url}/v1/emergency/params`)).json.maxDurationMs, 30 * 60_000);
  await pass({ type: 'param.set', param: 'vaultPendingObjectsPerIdentity', value: 1 });
  const uploader = client(generateKeyBundle());
  await uploader.registerPatient();
  await uploader.putObject(randomBytes(64));
  assert.deepEqual(await refusal(uploader.putObject(randomBytes(64))), { code: 'QUOTA_EXCEEDED', status: 429 });
});

test('a validator added by vote at height H is recorded effective at H+2, consensus runs the new set from then on, and the history pages', async () => {
  // The lone running validator first gets power 10, so the added one (power 1, never started
  // here) is not needed for more than 2/3 and blocks keep committing after the change.
  const soloKey = t.node.publicKey;
  await pass({ type: 'validator.power', validator: idFromPublicKey(soloKey), power: 10 });
  const fifth = generateKeyBundle();
  const added = await pass({
    type: 'validator.add',
    name: 'node4',
    publicKey: fifth.signing.publicKey,
    encryptionKey: fifth.encryption.publicKey,
    power: 1,
  });
  const h = added.closedAt?.height as number;
  assert.equal(added.effectiveHeight, h + 2);
  const hospital = org('org.key');
  const sets = await govValidatorSets(hospital);
  assert.deepEqual(
    sets.items.map((s) => [(s.effectiveHeight as number) - (s.decidedAt as number), (s.validators as unknown[]).length]),
    [
      [2, 1],
      [2, 2],
    ],
    'the power change, then the addition',
  );
  assert.deepEqual([sets.items[1]?.effectiveHeight, sets.items[1]?.decidedAt], [h + 2, h]);
  // Until H+2 the set before is in effect; from H+2 the engine runs the new one (docs/governance.md).
  const current = async () => (await hospital.get('/v1/gov/validator-sets/current', { auth: true })) as Record<string, unknown>;
  const now = await current();
  if ((now.height as number) < h + 2) assert.equal((now.inEffect as unknown[]).length, 1);
  assert.equal((now.latestDecided as unknown[]).length, 2);
  assert.equal(now.consensusFollows, true);
  // Two more blocks: the new set is in effect.
  const patient = client(generateKeyBundle());
  await patient.registerPatient();
  await waitFor(async () => ((await current()).height as number) >= h + 2 || undefined, 'two more blocks');
  assert.equal(((await current()).inEffect as unknown[]).length, 2);
  // The engine signs with the set in effect: the status shows it, and the newest header names it.
  const status = (await get(`${t.url}/v1/status`)).json as { validators: Array<{ publicKey: string; power: number }> };
  assert.deepEqual(
    status.validators.map((v) => [v.publicKey, v.power]),
    [
      [soloKey, 10],
      [fifth.signing.publicKey, 1],
    ],
  );
  // Paging: one proposal per page, newest first, following the cursor to the end.
  const seen: number[] = [];
  let cursor: string | undefined;
  do {
    const page = await govProposals(hospital, { limit: 1, ...(cursor === undefined ? {} : { cursor }) });
    seen.push(...page.items.map((p) => p.id));
    cursor = page.next ?? undefined;
  } while (cursor !== undefined);
  assert.deepEqual(
    seen,
    [...seen].sort((a, b) => b - a),
  );
  assert.equal(seen.length, added.id);
  const passedOnly = await govProposals(hospital, { status: 'passed', limit: 500 });
  assert.equal(passedOnly.items.length, added.id);
  assert.equal((await get(`${t.url}/v1/gov/proposals?limit=0`)).status, 400);
});

test('staff of an organization suspended by vote can neither sign transactions nor keep or open a session', async () => {
  const insurer = org('org-evergreen-health-insurance.key');
  const adjusterKeys = generateKeyBundle();
  await insurer.submitAndWait('staff.register', {
    publicKey: adjusterKeys.signing.publicKey,
    encryptionKey: adjusterKeys.encryption.publicKey,
    role: 'insurer',
  });
  const adjuster = client(adjusterKeys);
  // Signed in before the suspension: the session ends with it.
  assert.equal((await govMembers(adjuster)).items.length, 5);
  // The insurer votes on its own suspension first; the three others' votes pass it (4 of 5).
  const p = await govPropose(org('org.key'), { type: 'org.suspend', org: idFromPublicKey(insurer.keys.signing.publicKey) }, HOUR);
  await govVote(insurer, p.id, true);
  for (const file of ['org.key', 'org-riverside-clinic.key', 'org-northside-lab.key']) await govVote(org(file), p.id, true);
  assert.equal((await govProposal(org('org.key'), p.id)).status, 'passed');
  assert.deepEqual(await refusal(govMembers(adjuster)), { code: 'UNKNOWN_IDENTITY', status: 403 });
  const fresh = client(adjusterKeys);
  assert.deepEqual(await refusal(fresh.signIn()), { code: 'UNKNOWN_IDENTITY', status: 403 });
  const patientKeys = generateKeyBundle();
  assert.deepEqual(await refusal(fresh.submit('staff.revoke', { id: idFromPublicKey(patientKeys.signing.publicKey) })), {
    code: 'REVOKED',
    status: 403,
  });
});
