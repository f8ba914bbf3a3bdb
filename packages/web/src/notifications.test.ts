// The notification centre's notices (issue 17 item 10) come from ledger facts the app
// already proves: opens, records added by others, emergency windows, shares ending within 7
// days; the device clock only decides "within 7 days".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AccessEvent, Grant, RecordMeta } from '@medledger/client';
import { clinicianNotices, markSeen, patientNotices, seenKey, seenNotices, sharesEndingSoon } from './notifications.js';

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

// Read marks (notifications.ts seenNotices/markSeen) in a local storage that outlives sign-out.
class MemoryStorage {
  readonly items = new Map<string, string>();
  getItem(k: string): string | null {
    return this.items.get(k) ?? null;
  }
  setItem(k: string, v: string): void {
    this.items.set(k, String(v));
  }
  removeItem(k: string): void {
    this.items.delete(k);
  }
}

test('read marks keep no notice id on the device: who opened what, emergency windows and recalled packs stay unreadable without the keys', () => {
  const storage = new MemoryStorage();
  (globalThis as { localStorage?: unknown }).localStorage = storage;
  try {
    const clinician = 'ab'.repeat(20);
    const ids = [`g:opened|${clinician}|${NOW}|:3:3`, 'e:window-7:closed', 'r:09506000134352/SERIAL-123:42', `s:grant-9:${NOW + DAY}`];
    const key = seenKey('11'.repeat(32));
    markSeen('patient-1', key, ids);
    const stored = [...storage.items.values()].join('\n');
    for (const leak of [clinician, 'window-7', '09506000134352', 'SERIAL-123', 'grant-9', 'opened'])
      assert.ok(!stored.includes(leak), `${leak} kept on the device`);
    const seen = seenNotices('patient-1', key);
    for (const id of ids) assert.equal(seen(id), true, id);
    assert.equal(seen('e:window-8:closed'), false);
    // Another account's key (or none) cannot tell which notices these were.
    const other = seenNotices('patient-1', seenKey('22'.repeat(32)));
    for (const id of ids) assert.equal(other(id), false, id);
  } finally {
    delete (globalThis as { localStorage?: unknown }).localStorage;
  }
});

test('read marks written in the clear by an earlier version are erased at the next read', () => {
  const storage = new MemoryStorage();
  (globalThis as { localStorage?: unknown }).localStorage = storage;
  try {
    const legacy = `g:opened|${'cd'.repeat(20)}|${NOW}|:1:1`;
    storage.setItem('medledger.notificationsSeen.patient-2', JSON.stringify([legacy, 'r:09506000134352/S-1:7']));
    const key = seenKey('33'.repeat(32));
    assert.equal(seenNotices('patient-2', key)(legacy), false);
    assert.equal(storage.getItem('medledger.notificationsSeen.patient-2'), '[]');
    markSeen('patient-2', key, [legacy]);
    assert.equal(seenNotices('patient-2', key)(legacy), true);
    assert.ok(!(storage.getItem('medledger.notificationsSeen.patient-2') ?? '').includes('cd'.repeat(20)));
  } finally {
    delete (globalThis as { localStorage?: unknown }).localStorage;
  }
});
