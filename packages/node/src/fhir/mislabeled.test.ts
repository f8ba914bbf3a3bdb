// A record filed under another category than it was written as (issue 12 item 11), read
// through the FHIR endpoint by the organization it is shared with: refused as
// RECORD_MISLABELED (422 OperationOutcome), never served as what its label claims. A search
// that meets it skips it (logging why, not what) and serves the rest.
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

let patientId = '';
let mislabeled = '';
let honestId = '';

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
  const honest = await patient.writeRecord({
    patient: patient.id,
    resource: { ...lab, code: { text: 'pulse' }, effectiveDateTime: '2024-01-01' },
    category: 'vital-signs',
  });
  patientId = patient.id;
  mislabeled = record;
  honestId = honest.recordId;

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

test('a search that meets a mislabeled record skips it, logs the reason without contents, and serves the rest', async () => {
  const logged: string[] = [];
  const log = t.node.log.bind(t.node);
  t.node.log = (level, message) => {
    logged.push(message);
    log(level, message);
  };
  const token = await tokenFor(t.base, t.orgKeys);
  type Entry = {
    resource: { resourceType: string; meta?: { versionId: string }; code?: { text: string }; issue?: Array<{ diagnostics: string }> };
    search: { mode: string };
  };
  type SearchSet = { total: number; entry: Entry[]; link: Array<{ relation: string }> };
  const search = async (query: string) => {
    const res = await fetch(`${t.base}/Observation?patient=${patientId}${query}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200, 'one bad record does not fail the search');
    return (await res.json()) as SearchSet;
  };
  // Oldest first: the mislabeled record comes first; a page of one reads on past it.
  for (const query of ['', '&_count=1', '&date=ge2000-01-01']) {
    const bundle = await search(query);
    const matches = bundle.entry.filter((e) => e.search.mode === 'match');
    assert.deepEqual(
      matches.map((e) => e.resource.meta?.versionId),
      [honestId],
      query,
    );
    assert.equal(matches[0]?.resource.code?.text, 'pulse');
    const outcome = bundle.entry.find((e) => e.search.mode === 'outcome');
    assert.match(outcome?.resource.issue?.[0]?.diagnostics ?? '', /RECORD_MISLABELED: 1 record/, query);
    assert.doesNotMatch(JSON.stringify(bundle), /HIV/);
    assert.equal(bundle.total, 1, query);
    assert.ok(!bundle.link.some((l) => l.relation === 'next'), `${query}: nothing more to page to`);
  }
  const reasons = logged.filter((m) => m.includes('RECORD_MISLABELED'));
  assert.ok(reasons.length >= 3 && reasons.every((m) => m.includes(mislabeled)), logged.join('\n'));
  assert.ok(!logged.some((m) => /HIV|viral/.test(m)), 'the log names the record, never its contents');
});
