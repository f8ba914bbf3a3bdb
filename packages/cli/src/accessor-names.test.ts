// `medledger audit` names each reader from their proven identity. A long log names many
// readers: the look-ups go a few at a time (ACCESSOR_LOOKUPS), not all at once, and each
// organization is looked up once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACCESSOR_LOOKUPS, accessorNames } from './accessor-names.js';

const PATIENT = 'p'.repeat(40);
const ORG = 'o'.repeat(40);

/** A client whose identity() answers after a short wait, counting requests in flight. */
function slowClient(missing: ReadonlySet<string> = new Set()) {
  let inFlight = 0;
  const seen = { max: 0, calls: [] as string[] };
  const client = {
    async identity(id: string) {
      seen.calls.push(id);
      inFlight++;
      seen.max = Math.max(seen.max, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      if (missing.has(id)) throw new Error('not found');
      if (id === ORG) return { name: 'General Hospital', role: 'organization' };
      return { name: `Dr ${id.slice(0, 4)}`, role: 'clinician', org: ORG };
    },
  };
  return { client, seen };
}

test('readers are named with at most ACCESSOR_LOOKUPS identity requests in flight', async () => {
  assert.equal(ACCESSOR_LOOKUPS, 8);
  const readers = Array.from({ length: 60 }, (_, i) => i.toString(16).padStart(40, 'a'));
  const events = [...readers, ...readers, null, PATIENT].map((accessor) => ({ accessor }));
  const { client, seen } = slowClient(new Set([readers[3] as string]));
  const names = await accessorNames(client, PATIENT, events);
  assert.ok(seen.max <= ACCESSOR_LOOKUPS, `at most ${ACCESSOR_LOOKUPS} in flight, saw ${seen.max}`);
  assert.ok(seen.max > 1, 'still in parallel');
  // Each reader once, the organization once; not the patient, not an anonymous read.
  assert.equal(seen.calls.length, readers.length + 1);
  assert.equal(seen.calls.filter((id) => id === ORG).length, 1);
  assert.ok(!seen.calls.includes(PATIENT));
  assert.equal(names.size, readers.length - 1, 'an identity that cannot be read is left out');
  assert.equal(names.get(readers[0] as string), `Dr ${(readers[0] as string).slice(0, 4)}, clinician at General Hospital`);
  assert.equal(names.has(readers[3] as string), false);
});
