// The authorization matrix over real HTTP on a real node: 7 roles × 5 grant states × 5
// actions. Only the allowed cells succeed; every refused write, grant, revoke and erase is
// also refused by the chain's own rule when the client's checks are bypassed; and every
// read, allowed or denied, reaches the patient's access log with its reason.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { type ClientError, MedLedgerClient, type Purpose, staffRegisterBody, TrustedGenesis } from '@medledger/client';
import { generateKeyBundle, idFromPublicKey, type KeyBundle } from '@medledger/crypto';
import { readOrgKey } from '@medledger/node';
import { startSoloNode, TEST_PASSPHRASE, type TestNode, waitFor } from '@medledger/node/testing';

// Node homes' keystores are encrypted; this file's nodes and CLI runs use the test passphrase.
process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

/** The genesis the SDK clients of this file trust: the test network's own. */
const trusted = () => TrustedGenesis.fromDocument(net.node.chain.genesis);

const ROLES = ['patient', 'delegate', 'clinician', 'other clinician', 'organization', 'insurer', 'pharmacy'] as const;
const STATES = ['none', 'active', 'expired', 'revoked', 'out of scope'] as const;
const ACTIONS = ['read', 'write', 'grant', 'revoke', 'erase'] as const;
type Role = (typeof ROLES)[number];
type State = (typeof STATES)[number];
type Action = (typeof ACTIONS)[number];

/** The policy the matrix checks, stated independently of the code under test. */
function allowed(role: Role, state: State, action: Action): boolean {
  if (role === 'patient' || role === 'delegate') return true;
  // Grantees only read and (with a read-write grant) write, and only while the grant is
  // active and covers the record. A grant to one clinician does nothing for a colleague.
  return (action === 'read' || action === 'write') && state === 'active' && role !== 'other clinician';
}

/** The read refusal the access log must show for a denied cell. */
function denyReason(role: Role, state: State): string {
  if (role === 'other clinician' || state === 'none') return 'NO_GRANT';
  return { active: 'OK', expired: 'EXPIRED', revoked: 'REVOKED', 'out of scope': 'OUT_OF_SCOPE' }[state] as string;
}

const hex = (n: number) => randomBytes(n).toString('hex');
const condition = { resourceType: 'Condition', code: { text: 'Asthma' }, clinicalStatus: { text: 'active' } };

let net: TestNode;
let org: MedLedgerClient;
const staff = new Map<'clinician' | 'colleague' | 'insurer' | 'pharmacy', { keys: KeyBundle; id: string }>();
let delegateKeys: KeyBundle;
let delegateId: string;
let thirdPartyId: string;

before(async () => {
  net = await startSoloNode();
  const orgKeys = readOrgKey(`${net.dir}/node0`);
  org = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: orgKeys });
  const roles = { clinician: 'clinician', colleague: 'clinician', insurer: 'insurer', pharmacy: 'pharmacy' } as const;
  for (const [who, role] of Object.entries(roles) as Array<[keyof typeof roles, (typeof roles)[keyof typeof roles]]>) {
    const keys = generateKeyBundle();
    await org.submitAndWait(
      'staff.register',
      staffRegisterBody({ publicKey: keys.signing.publicKey, encryptionKey: keys.encryption.publicKey, role }),
    );
    staff.set(who, { keys, id: idFromPublicKey(keys.signing.publicKey) });
  }
  delegateKeys = generateKeyBundle();
  delegateId = (await new MedLedgerClient({ genesis: trusted(), url: net.url, keys: delegateKeys }).registerPatient()).id;
  thirdPartyId = (await new MedLedgerClient({ genesis: trusted(), url: net.url, keys: generateKeyBundle() }).registerPatient()).id;
});
after(async () => {
  await net.cleanup();
});

interface Cell {
  role: Role;
  state: State;
  action: Action;
  ok: boolean;
  detail: string;
}

/** One patient with one record, a grant in `state`, and the role's actor trying each action. */
async function runCombo(role: Role, state: State): Promise<Cell[]> {
  const patientKeys = generateKeyBundle();
  const patient = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: patientKeys });
  const { id: patientId } = await patient.registerPatient();
  const { recordId } = await patient.writeRecord({ patient: patientId, resource: condition, category: 'problems' });
  if (role === 'delegate') {
    // A delegation takes effect once the delegate accepts; then the patient shares the keys.
    await patient.setDelegate(delegateId);
    await new MedLedgerClient({ url: net.url, keys: delegateKeys }).acceptDelegation(patientId);
    await patient.shareWithDelegate(delegateId);
  }
  const thirdGrant = await patient.grant({ grantee: thirdPartyId, categories: ['problems'], purpose: 'treatment' });

  const actorKeys: KeyBundle = {
    patient: patientKeys,
    delegate: delegateKeys,
    clinician: staff.get('clinician')?.keys,
    'other clinician': staff.get('colleague')?.keys,
    organization: org.keys,
    insurer: staff.get('insurer')?.keys,
    pharmacy: staff.get('pharmacy')?.keys,
  }[role] as KeyBundle;
  const actor = role === 'patient' ? patient : new MedLedgerClient({ genesis: trusted(), url: net.url, keys: actorKeys });
  const actorId = idFromPublicKey(actorKeys.signing.publicKey);
  // Who holds the grant in `state`: the actor itself, except that the patient does not grant
  // to themself and a colleague's grant is the clinician's.
  const grantee = {
    patient: staff.get('clinician')?.id,
    delegate: delegateId,
    clinician: staff.get('clinician')?.id,
    'other clinician': staff.get('clinician')?.id,
    organization: org.id,
    insurer: staff.get('insurer')?.id,
    pharmacy: staff.get('pharmacy')?.id,
  }[role] as string;
  const purpose: Purpose = role === 'insurer' ? 'payment' : 'treatment';
  if (state !== 'none') {
    const categories = state === 'out of scope' ? ['laboratory'] : ['problems'];
    // Long enough for grant() to prove the covered records and seal them first (a few round
    // trips under a loaded machine) before its block; short enough to wait out below.
    const expiresAt = state === 'expired' ? Date.now() + 5000 : undefined;
    const { grantId } = await patient.grant({ grantee, categories, access: 'read-write', purpose, expiresAt });
    if (state === 'revoked') await patient.revoke(grantId);
    if (state === 'expired') {
      await new Promise((r) => setTimeout(r, Math.max(0, (expiresAt as number) - Date.now() + 50)));
      // Expiry is by block time, and admission judges at the last block's time: commit one
      // unrelated transaction (a fresh registration) so a block after the expiry exists.
      await new MedLedgerClient({ genesis: trusted(), url: net.url, keys: generateKeyBundle() }).registerPatient();
    }
  }

  const cells: Cell[] = [];
  const attempt = async (action: Action, run: () => Promise<string>, chainRefuses?: () => Promise<unknown>) => {
    let ok = true;
    let detail: string;
    try {
      detail = await run();
    } catch (err) {
      ok = false;
      detail = (err as ClientError).code ?? String(err);
    }
    if (!ok && chainRefuses !== undefined) {
      // The client stopped early (e.g. the gatekeeper refused the recipients): send the
      // transaction anyway and check that the chain's rule refuses it too, at admission or
      // when its block executes (admission may still see the last block's earlier time).
      try {
        await chainRefuses();
        ok = true;
        detail = 'the chain accepted a transaction the client was refused';
      } catch (err) {
        detail += `/chain:${(err as ClientError).code}`;
      }
    }
    cells.push({ role, state, action, ok, detail });
  };

  await attempt('read', async () => {
    const got = await actor.readRecord(recordId, role === 'patient' || role === 'delegate' ? undefined : purpose);
    assert.deepEqual(got.resource, condition);
    return 'read';
  });
  const forgedAnchor = () =>
    actor.submitAndWait('record.anchor', {
      record: hex(16),
      patient: patientId,
      resourceType: 'Condition',
      category: 'problems',
      contentHash: hex(32),
      size: 64,
      envelopes: [...new Set([patientId, actorId])].map((to) => ({ to, hash: hex(32) })).concat([{ to: 'emergency', hash: hex(32) }]),
    });
  await attempt(
    'write',
    async () => {
      const written = await actor.writeRecord({ patient: patientId, resource: condition, category: 'problems' });
      const listed = await patient.listRecords(patientId);
      assert.ok(listed.some((r) => r.record === written.recordId));
      return 'written';
    },
    forgedAnchor,
  );
  const grantBody = {
    patient: patientId,
    grantee: thirdPartyId,
    scope: { categories: ['problems'] },
    access: 'read',
    purpose: 'treatment',
  };
  await attempt(
    'grant',
    async () => (await actor.grant({ patient: patientId, grantee: thirdPartyId, categories: ['problems'], purpose: 'treatment' })).grantId,
    () => actor.submitAndWait('consent.grant', grantBody as never),
  );
  await attempt('revoke', async () => {
    await actor.revoke(thirdGrant.grantId);
    const after = await patient.grants(patientId, true);
    assert.notEqual(after.find((g) => g.id === thirdGrant.grantId)?.revoked, null);
    return 'revoked';
  });
  await attempt('erase', async () => {
    await actor.erase(recordId);
    await assert.rejects(patient.readRecord(recordId), (e: ClientError) => e.status === 410);
    return 'erased';
  });

  // Every read attempt is on the chain, in the patient's log, with the right decision.
  const read = cells.find((c) => c.action === 'read') as Cell;
  const expected = read.ok ? 'allowed:OK' : `denied:${denyReason(role, state)}`;
  const logged = await waitFor(
    async () => {
      const log = await patient.accessLog(patientId);
      const mine = log.filter((e) => e.accessor === actorId && e.record === recordId);
      return mine.some((e) => `${e.decision}:${e.reason}` === expected) ? mine : undefined;
    },
    `the ${role}/${state} read (${expected}) in the access log`,
    30_000,
  );
  assert.ok(logged.length >= 1);
  return cells;
}

test('authorization matrix: 7 roles × 5 grant states × 5 actions', async (t) => {
  // Each role's five states run in turn (its actor signs them in nonce order); roles run side by side.
  const results = await Promise.all(
    ROLES.map(async (role) => {
      const cells: Cell[] = [];
      for (const state of STATES) cells.push(...(await runCombo(role, state)));
      return cells;
    }),
  );
  const cells = results.flat();
  assert.equal(cells.length, ROLES.length * STATES.length * ACTIONS.length);
  const wrong = cells.filter((c) => c.ok !== allowed(c.role, c.state, c.action));
  const allowedCount = cells.filter((c) => c.ok).length;
  t.diagnostic(`${cells.length} cells: ${allowedCount} allowed, ${cells.length - allowedCount} refused`);
  assert.deepEqual(
    wrong.map((c) => `${c.role} / ${c.state} / ${c.action}: ${c.ok ? 'succeeded' : 'refused'} (${c.detail})`),
    [],
  );
  // Refusals carry the stable codes a caller can act on.
  for (const c of cells.filter((x) => !x.ok)) {
    assert.match(
      c.detail,
      /^(ACCESS_DENIED|UNAUTHORIZED|NOT_FOUND)(\/chain:UNAUTHORIZED)?$/,
      `${c.role}/${c.state}/${c.action}: ${c.detail}`,
    );
  }
});
