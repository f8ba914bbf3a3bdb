// A lying node (issue 11, item 6): a proxy between the client and an honest node rewrites,
// one case at a time, keys, recipient lists, validator keys, grants, block headers, commit
// signatures, proofs and heights. For each, the SDK and the CLI (given only the genesis)
// refuse with an error that names the failed check, and nothing is sealed to the attacker.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ClientError,
  MedLedgerClient,
  rotateEmergencyKey,
  setEmergencyPrivilege,
  staffRegisterBody,
  TrustedGenesis,
} from '@medledger/client';
import {
  type Answer,
  addRecipient,
  alterProof,
  carrying,
  editJson,
  flipCommitSignature,
  hideDelegate,
  hideGrantsTo,
  isProofRequest,
  type LyingProxy,
  onProofs,
  pathOf,
  type SentRequest,
  startLyingProxy,
  substituteValidatorKeys,
  swapEverywhere,
  widenGrants,
  writesIn,
} from '@medledger/client/testing/lying-proxy';
import { encryptKeystore, generateKeyBundle, idFromPublicKey, type KeyBundle } from '@medledger/crypto';
import { signVote } from '@medledger/ledger';
import { readOrgKey } from '@medledger/node';
import { startSoloNode, TEST_PASSPHRASE, type TestNode } from '@medledger/node/testing';
import { runCli } from './testing/cli.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

let net: TestNode;
let proxy: LyingProxy;
let trusted: TrustedGenesis;
let genesisFile: string;
let work: string;
const patientKeys = generateKeyBundle();
const granteeKeys = generateKeyBundle();
const attacker = generateKeyBundle();
let patientId: string;
let granteeId: string;
let attackerId: string;

const vital = { resourceType: 'Observation', status: 'final', code: { text: 'Pulse' }, valueQuantity: { value: 61, unit: '/min' } };

/** A client pinned to genesis that talks to the node only through the proxy. */
const viaProxy = (keys: KeyBundle) => new MedLedgerClient({ url: proxy.url, keys, genesis: trusted, pollIntervalMs: 20 });
const direct = (keys: KeyBundle) => new MedLedgerClient({ url: net.url, keys, genesis: trusted, pollIntervalMs: 20 });

function keyFile(name: string, keys: KeyBundle): string {
  const path = join(work, name);
  writeFileSync(path, JSON.stringify(encryptKeystore(keys, TEST_PASSPHRASE)));
  return path;
}

before(async () => {
  net = await startSoloNode();
  trusted = TrustedGenesis.fromDocument(net.node.chain.genesis);
  work = mkdtempSync(join(tmpdir(), 'medledger-lying-'));
  genesisFile = join(net.dir, 'genesis.json');
  proxy = await startLyingProxy(net.url);
  // The honest world: a patient with one record, a grantee holding a vital-signs grant, and
  // the attacker, registered like anyone else (so only the proofs can tell it is no recipient).
  const patient = direct(patientKeys);
  patientId = (await patient.registerPatient()).id;
  granteeId = (await direct(granteeKeys).registerPatient()).id;
  attackerId = (await direct(attacker).registerPatient()).id;
  await patient.grant({ grantee: granteeId, categories: ['vital-signs'], purpose: 'treatment' });
  await patient.writeRecord({ patient: patientId, resource: vital, category: 'vital-signs' });
});
after(async () => {
  await proxy?.close();
  await net?.cleanup();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

/**
 * Run `act` under `lie` and return what it threw and what the client sent meanwhile. The
 * lie is always taken back, so one case cannot leak into the next.
 */
async function underLie(
  lie: Parameters<LyingProxy['lie']>[0],
  act: () => Promise<unknown>,
): Promise<{ error: unknown; sent: SentRequest[] }> {
  const from = proxy.sent.length;
  proxy.lie(lie);
  let error: unknown;
  try {
    await act();
  } catch (err) {
    error = err;
  } finally {
    proxy.lie(undefined);
  }
  return { error, sent: proxy.sent.slice(from) };
}

/** The refusal names `code`, and nothing was uploaded, submitted or addressed to the attacker. */
function refusedCleanly(outcome: { error: unknown; sent: SentRequest[] }, code: string): void {
  assert.ok(outcome.error instanceof ClientError, `expected a refusal, got ${String(outcome.error)}`);
  assert.equal(outcome.error.code, code, outcome.error.message);
  assert.match(outcome.error.message, new RegExp(code));
  assert.deepEqual(writesIn(outcome.sent), [], 'nothing is uploaded or submitted on a lie');
  assert.deepEqual(carrying(outcome.sent, attacker.encryption.publicKey), [], "nothing carries the attacker's key");
}

const writeVital = (client: MedLedgerClient) => client.writeRecord({ patient: patientId, resource: vital, category: 'vital-signs' });

describe('the SDK refuses a lying node', () => {
  test('honest control: through the proxy, a record is sealed to exactly the proven recipients, at a proven height', async () => {
    const from = proxy.sent.length;
    const written = await writeVital(viaProxy(patientKeys));
    assert.ok(written.provenAt >= 1);
    const anchors = proxy.sent
      .slice(from)
      .filter((r) => r.method === 'POST' && pathOf(r) === '/v1/txs')
      .map((r) => JSON.parse(r.body.toString('utf8')))
      .filter((tx) => tx.kind === 'record.anchor');
    assert.equal(anchors.length, 1);
    const to = (anchors[0].body.envelopes as Array<{ to: string }>).map((e) => e.to).sort();
    assert.deepEqual(to, [patientId, granteeId, 'emergency'].sort());
  });

  test('keys: a substituted grantee key in the node lists is refused (FACT_NOT_PROVEN)', async () => {
    const lie = (r: SentRequest, a: Answer) =>
      pathOf(r).endsWith('/recipients') || pathOf(r).startsWith('/v1/identities/')
        ? { status: a.status, body: a.body.replaceAll(granteeKeys.encryption.publicKey, attacker.encryption.publicKey) }
        : undefined;
    refusedCleanly(await underLie(lie, () => writeVital(viaProxy(patientKeys))), 'FACT_NOT_PROVEN');
  });

  test('keys: a substituted key inside the proven values is refused (STATE_PROOF_INVALID), for a record and for sharing', async () => {
    const lie = swapEverywhere(granteeKeys.encryption.publicKey, attacker.encryption.publicKey);
    refusedCleanly(await underLie(lie, () => writeVital(viaProxy(patientKeys))), 'STATE_PROOF_INVALID');
    const friend = generateKeyBundle();
    const friendId = (await direct(friend).registerPatient()).id;
    const swapFriend = swapEverywhere(friend.encryption.publicKey, attacker.encryption.publicKey);
    refusedCleanly(
      await underLie(swapFriend, () =>
        viaProxy(patientKeys).grant({ grantee: friendId, categories: ['vital-signs'], purpose: 'treatment' }),
      ),
      'STATE_PROOF_INVALID',
    );
  });

  test('identities: a name and keys come from the proven state, so a node renaming or re-keying someone is not believed, and a forged proof is refused (STATE_PROOF_INVALID)', async () => {
    const honest = await direct(patientKeys).identity(granteeId);
    assert.equal(honest.encryptionKey, granteeKeys.encryption.publicKey);
    const renamed = (r: SentRequest, a: Answer) =>
      pathOf(r).startsWith('/v1/identities/') && a.status === 200
        ? editJson(a, (j) => {
            j.name = 'Dr Trusted';
            j.encryptionKey = attacker.encryption.publicKey;
          })
        : undefined;
    proxy.lie(renamed);
    try {
      assert.deepEqual(await viaProxy(patientKeys).identity(granteeId), honest);
    } finally {
      proxy.lie(undefined);
    }
    const forged = swapEverywhere(granteeKeys.encryption.publicKey, attacker.encryption.publicKey);
    refusedCleanly(await underLie(forged, () => viaProxy(patientKeys).identity(granteeId)), 'STATE_PROOF_INVALID');
    const unknown = 'ab'.repeat(20);
    await assert.rejects(viaProxy(patientKeys).identity(unknown), (e: ClientError) => e.code === 'IDENTITY_NOT_FOUND' && e.status === 404);
  });

  test('recipient lists: the node adding itself as a recipient is refused (FACT_NOT_PROVEN)', async () => {
    const lie = addRecipient(attackerId, attacker.encryption.publicKey);
    refusedCleanly(await underLie(lie, () => writeVital(viaProxy(patientKeys))), 'FACT_NOT_PROVEN');
  });

  test('validator keys: substituted emergency keys stop registration and rotation before anything is sent (GENESIS_MISMATCH)', async () => {
    const lie = substituteValidatorKeys(attacker.encryption.publicKey);
    const newcomer = viaProxy(generateKeyBundle());
    refusedCleanly(await underLie(lie, () => newcomer.registerPatient()), 'GENESIS_MISMATCH');
    const patient = viaProxy(patientKeys);
    refusedCleanly(await underLie(lie, () => rotateEmergencyKey(patient, (o) => patient.putObject(o))), 'GENESIS_MISMATCH');
  });

  test('grants: a widened grant is not shown (FACT_NOT_PROVEN), and a forged grant in the proofs is refused (STATE_PROOF_INVALID)', async () => {
    const widen = widenGrants('laboratory');
    refusedCleanly(await underLie(widen, () => viaProxy(patientKeys).grants(patientId)), 'FACT_NOT_PROVEN');
    const forge = onProofs((j) => {
      for (const e of j.entries)
        if (e.key.startsWith('grant/') && e.value !== null) e.value = e.value.replace('"revoked":null', '"revoked":null ');
    });
    refusedCleanly(await underLie(forge, () => writeVital(viaProxy(patientKeys))), 'STATE_PROOF_INVALID');
  });

  test("grants: a node that leaves a grant out of the patient's list is caught (FACT_NOT_PROVEN); a revoked one may leave the active list only", async () => {
    const hide = hideGrantsTo(granteeId);
    refusedCleanly(await underLie(hide, () => viaProxy(patientKeys).grants(patientId)), 'FACT_NOT_PROVEN');
    refusedCleanly(await underLie(hide, () => viaProxy(patientKeys).grants(patientId, true)), 'FACT_NOT_PROVEN');
    const listed = await viaProxy(patientKeys).grants(patientId);
    assert.ok(
      listed.some((g) => g.grantee === granteeId && g.active === true),
      'the honest list holds the grant',
    );
    // A revoked grant is rightly absent from the active list, and still caught when left out of all of them.
    const formerId = (await direct(generateKeyBundle()).registerPatient()).id;
    const patient = direct(patientKeys);
    const { grantId } = await patient.grant({ grantee: formerId, categories: ['laboratory'], purpose: 'treatment' });
    await patient.revoke(grantId);
    const hideFormer = hideGrantsTo(formerId);
    const { error } = await underLie(hideFormer, () => viaProxy(patientKeys).grants(patientId));
    assert.equal(error, undefined, 'leaving a revoked grant out of the active list is no lie');
    refusedCleanly(await underLie(hideFormer, () => viaProxy(patientKeys).grants(patientId, true)), 'FACT_NOT_PROVEN');
  });

  test('delegates: a node that leaves an accepted delegate out of the list is caught (FACT_NOT_PROVEN)', async () => {
    const ownerKeys = generateKeyBundle();
    const helperKeys = generateKeyBundle();
    const ownerId = (await direct(ownerKeys).registerPatient()).id;
    const helperId = (await direct(helperKeys).registerPatient()).id;
    await direct(ownerKeys).setDelegate(helperId);
    await direct(helperKeys).acceptDelegation(ownerId);
    const shown = await viaProxy(ownerKeys).delegates(ownerId);
    assert.deepEqual(
      shown.map((d) => [d.delegate, d.status]),
      [[helperId, 'accepted']],
    );
    refusedCleanly(await underLie(hideDelegate(helperId), () => viaProxy(ownerKeys).delegates(ownerId)), 'FACT_NOT_PROVEN');
  });

  test('access log: a node that hides a read from the patient (drops it, or answers from an older log) is caught or overruled by the proofs', async () => {
    // The grantee reads the record; the node logs the read on chain.
    const patient = direct(patientKeys);
    const recordId = (await patient.listRecords(patientId))[0]?.record as string;
    await direct(granteeKeys).readRecord(recordId, 'treatment');
    const isTheRead = (e: { accessor: unknown; record: unknown; decision: unknown }) =>
      e.accessor === granteeId && e.record === recordId && e.decision === 'allowed';
    for (let i = 0; !(await patient.accessLog(patientId)).some(isTheRead); i++) {
      assert.ok(i < 300, 'the read reached the access log');
      await new Promise((r) => setTimeout(r, 50));
    }
    const onLog =
      (change: (j: { events: Array<Record<string, unknown>>; count: number; next: string | null }) => void) =>
      (request: SentRequest, answer: Answer) =>
        pathOf(request) === `/v1/patients/${patientId}/access-log` && answer.status === 200 ? editJson(answer, change) : undefined;
    // Dropped from the page: the page no longer matches the proven log.
    const dropped = onLog((j) => {
      j.events = j.events.filter((e) => !isTheRead(e as never));
    });
    refusedCleanly(await underLie(dropped, () => viaProxy(patientKeys).accessLogPage(patientId)), 'FACT_NOT_PROVEN');
    // Dropped with a matching count (the answer of an older, shorter log): the proofs show the
    // newer entries anyway, so the read is on the page the patient sees.
    let shown: Awaited<ReturnType<MedLedgerClient['accessLogPage']>> | undefined;
    const older = onLog((j) => {
      const at = j.events.findIndex((e) => isTheRead(e as never));
      j.events = j.events.slice(at + 1);
      j.count -= at + 1;
    });
    const outcome = await underLie(older, async () => {
      shown = await viaProxy(patientKeys).accessLogPage(patientId);
    });
    assert.equal(outcome.error, undefined, String(outcome.error));
    assert.ok(shown?.events.some(isTheRead), 'the hidden read is shown from the proofs');
    // A page that claims a longer log than the proven one is refused.
    const longer = onLog((j) => {
      j.count += 1;
      j.next = j.next === null ? null : String(Number(j.next) + 1).padStart(12, '0');
    });
    refusedCleanly(await underLie(longer, () => viaProxy(patientKeys).accessLogPage(patientId)), 'FACT_NOT_PROVEN');
  });

  test("records: a node that hides a record from its patient's list is refused (FACT_NOT_PROVEN)", async () => {
    const onList =
      (change: (j: { records: Array<{ record: string }>; count: number; next: string | null }) => void) =>
      (request: SentRequest, answer: Answer) =>
        pathOf(request) === `/v1/patients/${patientId}/records` && answer.status === 200 ? editJson(answer, change) : undefined;
    const shown = await viaProxy(patientKeys).listRecords(patientId);
    assert.ok(shown.length >= 1, 'the honest list, through the proxy');
    // Left out, with the count told as if it never existed.
    const hidden = onList((j) => {
      j.records.pop();
      j.count -= 1;
    });
    refusedCleanly(await underLie(hidden, () => viaProxy(patientKeys).listRecords(patientId)), 'FACT_NOT_PROVEN');
    // A page without its count cannot pass for the complete list.
    const uncounted = onList((j) => {
      delete (j as { count?: number }).count;
    });
    refusedCleanly(await underLie(uncounted, () => viaProxy(patientKeys).listRecords(patientId)), 'FACT_NOT_PROVEN');
    // Reordered, when there are two.
    await direct(patientKeys).writeRecord({ patient: patientId, resource: vital, category: 'vital-signs' });
    const swapped = onList((j) => {
      j.records.reverse();
    });
    refusedCleanly(await underLie(swapped, () => viaProxy(patientKeys).listRecords(patientId)), 'FACT_NOT_PROVEN');
  });

  test('records: rotating the emergency key through a node that hides a record, or calls it erased, is refused before any rewrap (FACT_NOT_PROVEN)', async () => {
    const onList =
      (change: (j: { records: Array<{ record: string; status?: string }>; count: number }) => void) =>
      (request: SentRequest, answer: Answer) =>
        pathOf(request) === `/v1/patients/${patientId}/records` && answer.status === 200 ? editJson(answer, change) : undefined;
    const rewraps = (sent: SentRequest[]) =>
      sent.filter((r) => r.method === 'POST' && pathOf(r) === '/v1/txs' && JSON.parse(r.body.toString('utf8')).kind === 'emergency.rewrap');
    const patient = viaProxy(patientKeys);
    // A record left out would keep its envelope to the old key, open to the old key's holders.
    const hidden = await underLie(
      onList((j) => {
        j.records.pop();
        j.count -= 1;
      }),
      () => rotateEmergencyKey(patient, (o) => patient.putObject(o)),
    );
    assert.ok(hidden.error instanceof ClientError && hidden.error.code === 'FACT_NOT_PROVEN', String(hidden.error));
    assert.deepEqual(rewraps(hidden.sent), []);
    // Told erased, a record would be skipped the same way.
    const erased = await underLie(
      onList((j) => {
        for (const r of j.records) r.status = 'erased';
      }),
      () => rotateEmergencyKey(patient, (o) => patient.putObject(o)),
    );
    assert.ok(erased.error instanceof ClientError && erased.error.code === 'FACT_NOT_PROVEN', String(erased.error));
    assert.deepEqual(rewraps(erased.sent), []);
    // Honest, the rotation rewraps every record.
    const listed = (await direct(patientKeys).listRecords(patientId)).filter((r) => r.status !== 'erased');
    const rotated = await rotateEmergencyKey(patient, (o) => patient.putObject(o));
    assert.equal(rotated.rewrapped, listed.length);
  });

  test('block headers: a rewritten header is refused (HEADER_MISMATCH)', async () => {
    const lie = onProofs((j) => {
      j.header.time += 1;
    });
    refusedCleanly(await underLie(lie, () => writeVital(viaProxy(patientKeys))), 'HEADER_MISMATCH');
  });

  test('commit signatures: a forged or foreign signature is refused (UNTRUSTED_COMMIT)', async () => {
    refusedCleanly(await underLie(flipCommitSignature, () => writeVital(viaProxy(patientKeys))), 'UNTRUSTED_COMMIT');
    // The attacker signs the very block with its own key: a signature, but not a validator's.
    const foreign = onProofs((j) => {
      const vote = { type: 'precommit' as const, height: j.commit.height, round: j.commit.round, blockHash: j.commit.blockHash };
      j.commit.signatures = [{ validator: attacker.signing.publicKey, sig: signVote(trusted.chainId, vote, attacker.signing.privateKey) }];
    });
    refusedCleanly(await underLie(foreign, () => writeVital(viaProxy(patientKeys))), 'UNTRUSTED_COMMIT');
  });

  test('proofs: an altered proof, a dropped entry, or another state root is refused', async () => {
    refusedCleanly(await underLie(alterProof, () => writeVital(viaProxy(patientKeys))), 'STATE_PROOF_INVALID');
    const drop = onProofs((j) => {
      j.entries.pop();
    });
    refusedCleanly(await underLie(drop, () => writeVital(viaProxy(patientKeys))), 'STATE_PROOF_INVALID');
    const root = onProofs((j) => {
      j.stateRoot = 'ab'.repeat(32);
    });
    refusedCleanly(await underLie(root, () => writeVital(viaProxy(patientKeys))), 'APP_HASH_MISMATCH');
  });

  test('heights: a claimed height that is not the header is refused (HEADER_MISMATCH); a replayed older answer is STALE_HEIGHT', async () => {
    const claim = onProofs((j) => {
      j.height += 5;
    });
    refusedCleanly(await underLie(claim, () => writeVital(viaProxy(patientKeys))), 'HEADER_MISMATCH');

    // Keep the honest answers, let the chain move on, then serve the old one again.
    const kept = new Map<string, Answer>();
    const client = viaProxy(patientKeys);
    await underLie(
      (r, a) => {
        if (isProofRequest(r) && a.status === 200) kept.set(r.body.toString('utf8'), a);
        return undefined;
      },
      () => client.listRecords(patientId),
    );
    assert.ok(kept.size > 0);
    await direct(generateKeyBundle()).registerPatient(); // new blocks
    const fresh = await client.listRecords(patientId);
    assert.ok((fresh[0]?.provenAt ?? 0) > Math.min(...[...kept.values()].map((a) => JSON.parse(a.body).height)));
    const replay = (r: SentRequest) => (isProofRequest(r) ? kept.get(r.body.toString('utf8')) : undefined);
    refusedCleanly(await underLie(replay, () => client.listRecords(patientId)), 'STALE_HEIGHT');
  });

  test('a client without a trusted genesis refuses to encrypt (NO_TRUSTED_GENESIS)', async () => {
    const bare = new MedLedgerClient({ url: proxy.url, keys: patientKeys });
    refusedCleanly(await underLie(undefined, () => writeVital(bare)), 'NO_TRUSTED_GENESIS');
    refusedCleanly(
      await underLie(undefined, () => new MedLedgerClient({ url: proxy.url, keys: generateKeyBundle() }).registerPatient()),
      'NO_TRUSTED_GENESIS',
    );
  });

  test('a genesis pinned by hash is fetched and checked; another chain is refused (GENESIS_MISMATCH)', async () => {
    const fetched = await TrustedGenesis.fromHash(trusted.hash, { get: async (p) => (await fetch(proxy.url + p)).json() });
    assert.equal(fetched.hash, trusted.hash);
    const other = { ...net.node.chain.genesis, chainId: 'another-chain' };
    const lie = (r: SentRequest, a: Answer) => (pathOf(r) === '/v1/genesis' ? { status: 200, body: JSON.stringify(other) } : a);
    proxy.lie(lie);
    try {
      await assert.rejects(
        TrustedGenesis.fromHash(trusted.hash, { get: async (p) => (await fetch(proxy.url + p)).json() }),
        (e: ClientError) => e.code === 'GENESIS_MISMATCH',
      );
    } finally {
      proxy.lie(undefined);
    }
  });
});

describe('the CLI refuses a lying node', () => {
  const cli = (args: string[]) => runCli([...args, '--url', proxy.url, '--genesis', genesisFile], { timeoutMs: 120_000 });
  let resource: string;
  let patientKey: string;
  before(() => {
    resource = join(work, 'pulse.json');
    writeFileSync(resource, JSON.stringify(vital));
    patientKey = keyFile('patient.key', patientKeys);
  });

  /** The command failed with a non-zero exit, said which check failed, and sent nothing. */
  async function cliRefuses(lie: Parameters<LyingProxy['lie']>[0], args: string[], code: string): Promise<void> {
    const from = proxy.sent.length;
    proxy.lie(lie);
    let run: Awaited<ReturnType<typeof cli>>;
    try {
      run = await cli(args);
    } finally {
      proxy.lie(undefined);
    }
    assert.notEqual(run.code, 0, `${args.join(' ')} must fail\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
    assert.match(run.stderr, new RegExp(code), run.stderr);
    const writes = proxy.sent.slice(from).filter((r) => r.method === 'PUT' || (r.method === 'POST' && pathOf(r).startsWith('/v1/txs')));
    assert.equal(writes.length, 0, 'nothing is uploaded or submitted');
  }

  let recordId: string;
  test('record add and record get through an honest proxy work with --genesis', async () => {
    const run = await cli(['record', 'add', '--key', patientKey, '--patient', patientId, '--file', resource, '--json']);
    assert.equal(run.code, 0, run.stderr);
    recordId = JSON.parse(run.stdout).record;
    assert.match(recordId, /^[0-9a-f]{32}$/);
    const got = await cli(['record', 'get', '--key', patientKey, '--id', recordId, '--json']);
    assert.equal(got.code, 0, got.stderr);
    assert.deepEqual(JSON.parse(got.stdout).resource, vital);
  });

  test('record get: an anchor the proofs do not back is not decrypted (STATE_PROOF_INVALID)', async () => {
    const lie = onProofs((j) => {
      for (const e of j.entries) if (e.key.startsWith('record/') && e.value !== null) e.value = `${e.value} `;
    });
    await cliRefuses(lie, ['record', 'get', '--key', patientKey, '--id', recordId], 'STATE_PROOF_INVALID');
  });

  test('emergency open: a rewritten patient key stops it before the window is opened (STATE_PROOF_INVALID)', async () => {
    const orgKeys = readOrgKey(join(net.dir, 'node0'));
    const doctor = generateKeyBundle();
    const org = direct(orgKeys);
    await org.submitAndWait(
      'staff.register',
      staffRegisterBody({
        publicKey: doctor.signing.publicKey,
        encryptionKey: doctor.encryption.publicKey,
        role: 'clinician',
        name: 'Dr Who',
      }),
    );
    await setEmergencyPrivilege(org, idFromPublicKey(doctor.signing.publicKey));
    const swap = swapEverywhere(patientKeys.encryption.publicKey, attacker.encryption.publicKey);
    await cliRefuses(
      swap,
      ['emergency', 'open', '--key', keyFile('doctor.key', doctor), '--patient', patientId, '--reason', 'unconscious', '--wait', '5'],
      'STATE_PROOF_INVALID',
    );
  });

  test('record add: substituted keys or an added recipient fail with the failed check', async () => {
    const swap = swapEverywhere(granteeKeys.encryption.publicKey, attacker.encryption.publicKey);
    await cliRefuses(swap, ['record', 'add', '--key', patientKey, '--patient', patientId, '--file', resource], 'STATE_PROOF_INVALID');
    const add = addRecipient(attackerId, attacker.encryption.publicKey);
    await cliRefuses(add, ['record', 'add', '--key', patientKey, '--patient', patientId, '--file', resource], 'FACT_NOT_PROVEN');
  });

  test('patient register: substituted validator keys fail (GENESIS_MISMATCH)', async () => {
    const lie = substituteValidatorKeys(attacker.encryption.publicKey);
    await cliRefuses(lie, ['patient', 'register', '--key', keyFile('newcomer.key', generateKeyBundle())], 'GENESIS_MISMATCH');
  });

  test('consent grant, record list, consent list: keys, headers, commits, proofs and grants are checked', async () => {
    const friend = generateKeyBundle();
    const friendId = (await direct(friend).registerPatient()).id;
    const swapFriend = swapEverywhere(friend.encryption.publicKey, attacker.encryption.publicKey);
    await cliRefuses(
      swapFriend,
      ['consent', 'grant', '--key', patientKey, '--to', friendId, '--category', 'vital-signs'],
      'STATE_PROOF_INVALID',
    );
    await cliRefuses(
      onProofs((j) => {
        j.header.appHash = 'ab'.repeat(32);
      }),
      ['record', 'list', '--key', patientKey],
      'HEADER_MISMATCH',
    );
    await cliRefuses(
      onProofs((j) => {
        j.commit.signatures.pop();
      }),
      ['record', 'list', '--key', patientKey],
      'UNTRUSTED_COMMIT',
    );
    await cliRefuses(
      onProofs((j) => {
        j.entries[0].value = null;
      }),
      ['record', 'list', '--key', patientKey],
      'STATE_PROOF_INVALID',
    );
    const widen = widenGrants('laboratory');
    await cliRefuses(widen, ['consent', 'list', '--key', patientKey], 'FACT_NOT_PROVEN');
  });

  test('heights: a later command answered from an older height fails (STALE_HEIGHT)', async () => {
    const kept = new Map<string, Answer>();
    proxy.lie((r, a) => {
      if (isProofRequest(r) && a.status === 200) kept.set(r.body.toString('utf8'), a);
      return undefined;
    });
    try {
      assert.equal((await cli(['record', 'list', '--key', patientKey])).code, 0);
    } finally {
      proxy.lie(undefined);
    }
    assert.ok(kept.size > 0);
    await direct(generateKeyBundle()).registerPatient();
    assert.equal((await cli(['record', 'list', '--key', patientKey])).code, 0); // remembers the newer height
    await cliRefuses(
      (r) => (isProofRequest(r) ? kept.get(r.body.toString('utf8')) : undefined),
      ['record', 'list', '--key', patientKey],
      'STALE_HEIGHT',
    );
  });

  test('without a genesis, commands that encrypt refuse with a clear message and exit 2', async () => {
    const run = await runCli(['record', 'add', '--key', patientKey, '--patient', patientId, '--file', resource, '--url', proxy.url], {
      env: { MEDLEDGER_GENESIS: '' },
    });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /NO_TRUSTED_GENESIS/);
    // ... and says what to pass: a novice should not have to find docs/cli.md "Trusted genesis".
    assert.match(run.stderr, /pass --genesis FILE \(or its SHA-256\), or set MEDLEDGER_GENESIS/);
  });
});
