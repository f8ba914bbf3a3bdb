// Custody end to end: a hospital registers a patient through FHIR, the node keeps the
// patient's keys sealed at rest; the patient claims them with a one-time code, the
// identity rotates onto keys only the patient holds, and the hospital then reads only what
// the patient grants anew.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { identityRotateBody, MedLedgerClient, TrustedGenesis } from '@medledger/client';
import { generateKeyBundle, generateSigningKeyPair } from '@medledger/crypto';
import { getIdentity, getSplit } from '@medledger/ehr';
import { Client } from 'fhir-kit-client';
import { type FhirTestNode, startFhirNode, tokenFor } from './testing.js';

// biome-ignore lint/suspicious/noExplicitAny: FHIR JSON
type Any = any;

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    const r = (err as { response?: { status: number } }).response;
    if (r === undefined) throw err;
    return r.status;
  }
}

async function claim(base: string, patient: string, params: Record<string, string>) {
  const res = await fetch(`${base}/Patient/${patient}/$claim`, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify({
      resourceType: 'Parameters',
      parameter: Object.entries(params).map(([name, valueString]) => ({ name, valueString })),
    }),
  });
  return { status: res.status, json: (await res.json()) as Any };
}

const obs = (patient: string, code: string, text: string) => ({
  resourceType: 'Observation',
  status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code }] }],
  code: { text },
  subject: { reference: `Patient/${patient}` },
  effectiveDateTime: '2022-06-01',
});

let t: FhirTestNode;
let fhir: Any;
before(async () => {
  t = await startFhirNode();
  fhir = new Client({ baseUrl: t.base, bearerToken: await tokenFor(t.base, t.orgKeys) });
});
after(async () => {
  await t.cleanup();
});

test('a registered patient claims their identity; the hospital then reads only what the patient grants', async () => {
  const patient: Any = await fhir.create({ resourceType: 'Patient', body: { resourceType: 'Patient', name: [{ family: 'Okafor' }] } });
  const pid = patient.id as string;
  const vital: Any = await fhir.create({ resourceType: 'Observation', body: obs(pid, 'vital-signs', 'pulse') });
  const lab: Any = await fhir.create({ resourceType: 'Observation', body: obs(pid, 'laboratory', 'glucose') });

  // The custodial copy: owner-only, and the patient's private keys are not in it in the clear.
  const file = join(t.dir, 'node0', 'fhir-custody', `${pid}.json`);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(join(t.dir, 'node0', 'fhir-custody')).mode & 0o777, 0o700);
  assert.ok(!readFileSync(file, 'utf8').includes('privateKey'));
  // Like a patient's own client, the hospital registered an emergency key split among the
  // validators, so break-glass access works for patients in custody too.
  const emergencyKey = getIdentity(t.node.chain.state, pid)?.emergencyKey;
  assert.ok(emergencyKey !== undefined);
  assert.equal(getSplit(t.node.chain.state, pid)?.emergencyKey, emergencyKey);

  // Only the organization issues claim codes.
  const codeAnswer: Any = await fhir.operation({
    name: 'claim-code',
    resourceType: 'Patient',
    id: pid,
    method: 'POST',
    input: { resourceType: 'Parameters' },
  });
  const code = codeAnswer.parameter.find((p: Any) => p.name === 'code').valueString as string;
  assert.equal(
    await status(
      new Client({ baseUrl: t.base }).operation({ name: 'claim-code', resourceType: 'Patient', id: pid, method: 'POST', input: {} }),
    ),
    401,
  );

  const mine = generateKeyBundle();
  const chain = t.node.chain.chainId;
  const { proof } = identityRotateBody({ chain, id: pid, newSigning: mine.signing, encryptionKey: mine.encryption.publicKey });
  const request = { code, publicKey: mine.signing.publicKey, encryptionKey: mine.encryption.publicKey, proof };

  // Refusals first: a wrong code, and a proof by another key; neither changes the identity.
  const custodialKey = getIdentity(t.node.chain.state, pid)?.publicKey;
  assert.equal((await claim(t.base, pid, { ...request, code: '00'.repeat(16) })).status, 403);
  const otherProof = identityRotateBody({ chain, id: pid, newSigning: generateSigningKeyPair() }).proof;
  assert.equal((await claim(t.base, pid, { ...request, proof: otherProof })).status, 400);
  assert.equal(getIdentity(t.node.chain.state, pid)?.publicKey, custodialKey);

  const done = await claim(t.base, pid, request);
  assert.equal(done.status, 200, JSON.stringify(done.json));
  const out = Object.fromEntries(done.json.parameter.map((p: Any) => [p.name, p.valueInteger ?? p.valueString]));
  assert.deepEqual(out, { patient: pid, recordsRewrapped: 3, grantsRevoked: 1 });
  assert.equal(getIdentity(t.node.chain.state, pid)?.publicKey, mine.signing.publicKey);
  assert.equal(getIdentity(t.node.chain.state, pid)?.encryptionKey, mine.encryption.publicKey);
  assert.equal(existsSync(file), false, 'the custodial copy is deleted');
  assert.equal((await claim(t.base, pid, request)).status, 403, 'a claim code works once');

  // The hospital's custody grant is gone: nothing reads any more.
  assert.equal(await status(fhir.read({ resourceType: 'Observation', id: vital.id })), 403);
  assert.equal(((await fhir.search({ resourceType: 'Observation', searchParams: { patient: pid } })) as Any).total, 0);

  // The patient reads every record with keys only they hold.
  const me = new MedLedgerClient({ url: t.url, keys: mine, id: pid, genesis: TrustedGenesis.fromDocument(t.node.chain.genesis) });
  const records = await me.listRecords(pid);
  assert.equal(records.length, 3);
  const readBack = (await me.readRecord(lab.id)).resource as Any;
  assert.equal(readBack.code.text, 'glucose');

  // A new grant, for vital signs only: the hospital sees that and nothing else.
  await me.grant({ grantee: t.orgId, categories: ['vital-signs'], purpose: 'treatment' });
  const seen: Any = await fhir.search({ resourceType: 'Observation', searchParams: { patient: pid } });
  assert.deepEqual(
    seen.entry.map((e: Any) => e.resource.code.text),
    ['pulse'],
  );
  assert.equal(await status(fhir.read({ resourceType: 'Observation', id: lab.id })), 403);
  assert.equal(
    await status(fhir.create({ resourceType: 'Observation', body: obs(pid, 'vital-signs', 'again') })),
    403,
    'a read grant does not let the hospital write',
  );
});
