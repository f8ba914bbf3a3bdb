// The notification centre's notices (issue 17 item 10) come from ledger facts the app
// already proves: opens, records added by others, emergency windows, shares ending within 7
// days; the device clock only decides "within 7 days".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AccessEvent, Grant, RecordMeta } from '@medledger/client';
import { clinicianNotices, patientNotices, sharesEndingSoon } from './notifications.js';

const NOW = Date.UTC(2026, 11, 6, 12);
const DAY = 86_400_000;

const grant = (id: string, expiresAt?: number): Grant =>
  ({ id, patient: 'p', grantee: 'grey', scope: {}, access: 'read', purpose: 'treatment', ...(expiresAt ? { expiresAt } : {}) }) as Grant;

const opened = (record: string, over: Partial<AccessEvent> = {}): AccessEvent =>
  ({
    id: record,
    record,
    patient: 'p',
    accessor: 'grey',
    purpose: 'treatment',
    decision: 'allowed',
    reason: 'OK',
    emergency: false,
    at: NOW - DAY,
    node: 'n',
    height: 1,
    time: NOW - DAY,
    count: 1,
    last: { height: 1, time: NOW - DAY },
    ...over,
  }) as AccessEvent;

test('shares ending within 7 days: not those without an end, not those further off or already over', () => {
  const ids = sharesEndingSoon(
    [grant('a', NOW + 3 * DAY), grant('b'), grant('c', NOW + 30 * DAY), grant('d', NOW - DAY), grant('e', NOW + DAY)],
    NOW,
  ).map((g) => g.id);
  assert.deepEqual(ids, ['e', 'a']);
  assert.deepEqual(
    clinicianNotices([grant('a', NOW + 3 * DAY)], NOW).map((n) => n.kind),
    ['share-ending'],
  );
});

test("a patient's notices: one for a clinician's opens that day, one for records added, one per emergency window, none for my own views", () => {
  const notices = patientNotices(
    {
      me: 'p',
      events: [opened('r1'), opened('r2'), opened('r3', { accessor: 'p' }), opened('r4', { emergency: true, accessor: 'house' })],
      records: [{ record: 'r9', author: 'grey', anchoredAt: { height: 2, time: NOW - 2 * DAY } }] as unknown as RecordMeta[],
      windows: [
        {
          id: 'w',
          clinician: 'house',
          openedAt: { time: NOW - 3 * DAY },
          expiresAt: NOW - 3 * DAY + 3_600_000,
          active: false,
          accesses: [{ record: 'r4' }],
        },
      ],
      grants: [grant('g', NOW + 2 * DAY)],
    },
    NOW,
  );
  assert.deepEqual(
    notices.map((n) => n.kind),
    ['opened', 'added', 'emergency', 'share-ending'],
  );
  assert.equal(notices[0]?.group?.records, 2);
  assert.equal(notices[2]?.emergency?.records, 1);
  // Ids are stable: the same facts give the same ids (so a read notice stays read).
  assert.equal(
    notices[0]?.id,
    patientNotices({ me: 'p', events: [opened('r1'), opened('r2')], records: [], windows: [], grants: [] }, NOW)[0]?.id,
  );
});

test('a recalled pack dispensed to the patient is one notice at the recall, and stays the same notice across loads', () => {
  const recall = {
    prescription: 'rx1',
    gtin: '00312345678906',
    serial: 'S1',
    lot: 'L7',
    dispensedAt: 10,
    recall: { reason: 'contamination', by: 'acme', at: { height: 20, time: NOW - 2 * DAY } },
  };
  const input = { me: 'p', events: [], records: [], windows: [], grants: [], recalls: [recall] };
  const first = patientNotices(input, NOW);
  assert.equal(first.length, 1);
  assert.equal(first[0]?.kind, 'recall');
  assert.equal(first[0]?.at, NOW - 2 * DAY);
  assert.equal(first[0]?.recall?.recall.reason, 'contamination');
  assert.equal(patientNotices(input, NOW + DAY)[0]?.id, first[0]?.id, 'a stable id, so a read recall stays read');
  assert.equal(patientNotices({ ...input, recalls: [] }, NOW).length, 0);
});
