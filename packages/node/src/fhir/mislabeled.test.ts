// A record filed under another category than it was written as (issue 12 item 11), read
// through the FHIR endpoint by the organization it is shared with: refused as
// RECORD_MISLABELED (422 OperationOutcome), never served as what its label claims.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { encryptRecord, MedLedgerClient, newRecordId, sealDataKey, TrustedGenesis } from '@medledger/client';
import { generateKeyBundle } from '@medledger/crypto';
import { type FhirTestNode, startFhirNode, tokenFor } from './testing.js';

let t: FhirTestNode;
before(async () => {
  t = await startFhirNode();
});
after(async () => {
  await t.cleanup();
});

const lab = { resourceType: 'Observation', status: 'final', code: { text: 'HIV viral load' } };

test('a mislabeled record is detected by the FHIR endpoint reading it for the organization', async () => {
  const patient = new MedLedgerClient({
    url: t.url,
    keys: generateKeyBundle(),
    genesis: TrustedGenesis.fromDocument(t.node.chain.genesis),
  });
  await patient.registerPatient();
  await patient.grant({ grantee: t.orgId, categories: ['vital-signs'], purpose: 'treatment' });
  // Written (bound) as laboratory, anchored as vital-signs, sealed to a vital-signs record's recipients.
  const record = newRecordId();
  const sealed = encryptRecord(lab, { record, patient: patient.id, category: 'laboratory', resourceType: 'Observation' });
  const recipients = await patient.recipients(patient.id, 'vital-signs', 'Observation');
  assert.ok(recipients.some((r) => r.to === t.orgId));
  const envelopes = recipients.map((r) => ({ to: r.to, ...sealDataKey(sealed.dataKey, record, r.to, r.encryptionKey) }));
  await patient.putObject(sealed.object);
  for (const e of envelopes) await patient.putObject(e.object);
  await patient.submitAndWait('record.anchor', {
    record,
    patient: patient.id,
    resourceType: 'Observation',
    category: 'vital-signs',
    contentHash: sealed.contentHash,
    size: sealed.object.length,
    envelopes: envelopes.map((e) => ({ to: e.to, hash: e.hash })),
  });
  const honest = await patient.writeRecord({ patient: patient.id, resource: { ...lab, code: { text: 'pulse' } }, category: 'vital-signs' });

  const token = await tokenFor(t.base, t.orgKeys);
  const read = (id: string) => fetch(`${t.base}/Observation/${id}`, { headers: { authorization: `Bearer ${token}` } });
  const refused = await read(record);
  assert.equal(refused.status, 422);
  const outcome = (await refused.json()) as { resourceType: string; issue: Array<{ diagnostics: string }> };
  assert.equal(outcome.resourceType, 'OperationOutcome');
  assert.match(outcome.issue[0]?.diagnostics ?? '', /RECORD_MISLABELED/);
  assert.doesNotMatch(JSON.stringify(outcome), /HIV/, 'nothing of the content is served');
  const ok = await read(honest.recordId);
  assert.equal(ok.status, 200);
  assert.equal(((await ok.json()) as { code: { text: string } }).code.text, 'pulse');
});
