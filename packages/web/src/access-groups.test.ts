// The access log grouped by person and day (issue 17 item 9): a clinician browsing 12
// records is one line that counts them; refusals keep their count and reason; records a
// clinician added are events too; emergency reads never merge with ordinary ones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AccessEvent, RecordMeta } from '@medledger/client';
import { entriesFromEvents, entriesFromRecords, groupByPersonAndDay, groupVerb, readsSummary } from './access-groups.js';

const DAY = new Date(2026, 11, 4, 9, 0).getTime();
let id = 0;
function event(over: Partial<AccessEvent>): AccessEvent {
  id++;
  return {
    id: String(id),
    record: `r${id}`,
    patient: 'p',
    accessor: 'grey',
    purpose: 'treatment',
    decision: 'allowed',
    reason: 'OK',
    emergency: false,
    at: DAY,
    node: 'n',
    height: id,
    time: DAY,
    count: 1,
    last: { height: id, time: DAY },
    ...over,
  };
}

test('browsing a list of 12 records is one line: "opened 12 records", the records under it', () => {
  const events = Array.from({ length: 12 }, (_, i) => event({ at: DAY + i * 1000 }));
  const groups = groupByPersonAndDay(entriesFromEvents(events));
  assert.equal(groups.length, 1);
  assert.equal(groups[0]?.records, 12);
  assert.equal(groupVerb(groups[0]!, 'x'), 'opened 12 records');
  assert.equal(groups[0]?.entries.length, 12);
});

test('a folded refusal keeps its count and reason; other days, people and emergency reads are lines of their own', () => {
  const events = [
    event({ decision: 'denied', reason: 'REVOKED', count: 300, record: 'bp', last: { height: 9, time: DAY + 60_000 } }),
    event({ at: DAY + 86_400_000 }),
    event({ accessor: 'house' }),
    event({ emergency: true }),
  ];
  const groups = groupByPersonAndDay(entriesFromEvents(events));
  assert.equal(groups.length, 4);
  const refused = groups.find((g) => g.kind === 'refused');
  assert.equal(refused?.times, 300);
  assert.deepEqual(refused?.reasons, ['REVOKED']);
  assert.equal(groupVerb(refused!, 'Blood pressure'), 'tried to open a record: Blood pressure — 300 times');
  assert.equal(groups.filter((g) => g.emergency).length, 1);
  assert.equal(groups[0]?.day, new Date(2026, 11, 5).getTime(), 'newest day first');
});

test("records a clinician added are 'added' events; the patient's own are not", () => {
  const metas = [
    { record: 'a', author: 'grey', anchoredAt: { height: 3, time: DAY } },
    { record: 'b', author: 'grey', anchoredAt: { height: 4, time: DAY + 5 } },
    { record: 'c', author: 'p', anchoredAt: { height: 5, time: DAY + 6 } },
  ] as unknown as RecordMeta[];
  const groups = groupByPersonAndDay(entriesFromRecords(metas, 'p'));
  assert.equal(groups.length, 1);
  assert.equal(groups[0]?.kind, 'added');
  assert.equal(groupVerb(groups[0]!, ''), 'added 2 records');
});

test("the patient's emergency notice summarises 200 reads in one line; a few are listed", () => {
  const many = Array.from({ length: 200 }, (_, i) => ({ record: `r${i % 150}`, at: DAY + i * 1000 }));
  assert.deepEqual(readsSummary(many), { records: 150, reads: 200, first: DAY, last: DAY + 199_000 });
  assert.equal(readsSummary(many.slice(0, 5)), undefined);
});
