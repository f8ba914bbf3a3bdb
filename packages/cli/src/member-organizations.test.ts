// The organization pickers' list (issue 14, web ship-to and pharmacy choices): the chain's
// current member organizations, not only the genesis's, on a real node over HTTP. A pharmacy
// admitted by a governance vote is listed (paged, proven), and a lying node that slips a
// non-member into the list, or renames a member, is refused.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ClientError, govPropose, govVote, listMemberOrganizations, MedLedgerClient, type MemberOrganization } from '@medledger/client';
import { type Answer, editJson, type LyingProxy, pathOf, type SentRequest, startLyingProxy } from '@medledger/client/testing/lying-proxy';
import { generateKeyBundle, idFromPublicKey, type KeyBundle } from '@medledger/crypto';
import { type OrgKeyFile, readOrgKey } from '@medledger/node';
import { TEST_PASSPHRASE } from '@medledger/node/testing';
import { type OrgNetwork, startOrgNetwork } from './testing/org-network.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

let net: OrgNetwork;
let proxy: LyingProxy;
before(async () => {
  net = await startOrgNetwork('member-orgs', [
    { name: 'General Hospital', kind: 'hospital' },
    { name: 'Acme Pharma', kind: 'manufacturer' },
    { name: 'Corner Pharmacy', kind: 'pharmacy' },
  ]);
  proxy = await startLyingProxy(net.url);
});
after(async () => {
  await proxy?.close();
  await net?.stop();
});

const client = (keys: KeyBundle, url = net.url) => new MedLedgerClient({ url, keys, genesis: net.trusted, pollIntervalMs: 20 });

/** Every page, `limit` at a time. */
async function all(
  c: MedLedgerClient,
  kinds: string[] | undefined,
  limit: number,
): Promise<{ items: MemberOrganization[]; pages: number }> {
  const items: MemberOrganization[] = [];
  let pages = 0;
  for (let cursor: string | undefined; ; ) {
    const page = await listMemberOrganizations(c, {
      limit,
      ...(kinds === undefined ? {} : { kinds }),
      ...(cursor === undefined ? {} : { cursor }),
    });
    pages += 1;
    items.push(...page.items);
    if (page.next === null) return { items, pages };
    cursor = page.next;
  }
}

test('a pharmacy admitted by a governance vote is offered by the pickers, paged and proven; a lying node is refused', async () => {
  const [hospital, acme, corner] = (net.orgs as OrgKeyFile[]).map((o) => client(readOrgKey(net.home, { file: o.file }))) as [
    MedLedgerClient,
    MedLedgerClient,
    MedLedgerClient,
  ];
  // The members route pages stored state, which block 1 writes (genesis state lives in memory until then).
  while (net.node.chain.height < 1) await new Promise((r) => setTimeout(r, 20));
  const before = await all(acme, ['pharmacy', 'dispenser'], 100);
  assert.deepEqual(
    before.items.map((o) => o.name),
    ['Corner Pharmacy'],
  );

  const newcomer = generateKeyBundle();
  const p = await govPropose(
    hospital,
    {
      type: 'org.admit',
      kind: 'pharmacy',
      name: 'Harbour Pharmacy',
      adminKey: newcomer.signing.publicKey,
      adminEncryptionKey: newcomer.encryption.publicKey,
    },
    60 * 60_000,
  );
  for (const voter of [hospital, acme, corner]) await govVote(voter, p.id, true);
  const newId = idFromPublicKey(newcomer.signing.publicKey);

  // Listed with its proven name and kind, one page at a time (four members, pages of one).
  const paged = await all(acme, ['pharmacy', 'dispenser'], 1);
  assert.deepEqual(paged.items.map((o) => [o.name, o.kind]).sort(), [
    ['Corner Pharmacy', 'pharmacy'],
    ['Harbour Pharmacy', 'pharmacy'],
  ]);
  assert.ok(paged.pages >= 4, 'every member came on its own page');
  assert.ok(paged.items.some((o) => o.id === newId));
  // Without a kind filter, all four members.
  assert.equal((await all(acme, undefined, 2)).items.length, 4);

  // A lying node adds a pharmacy that is not a member, or renames one: both refused.
  const fake = generateKeyBundle();
  const lies: Array<(r: SentRequest, a: Answer) => Answer | undefined> = [
    (r, a) =>
      pathOf(r) === '/v1/gov/members' && a.status === 200
        ? editJson(a, (j) => {
            j.members.push({ id: idFromPublicKey(fake.signing.publicKey), name: 'Shady Pharmacy', kind: 'pharmacy', status: 'active' });
          })
        : undefined,
    (r, a) =>
      r.method === 'POST' && pathOf(r) === '/v1/state/proofs' && a.status === 200
        ? editJson(a, (j) => {
            for (const e of j.entries)
              if (e.key === `identity/${newId}` && typeof e.value === 'string')
                e.value = e.value.replace('Harbour Pharmacy', 'Shady Pharmacy');
          })
        : undefined,
  ];
  const expected = ['FACT_NOT_PROVEN', 'STATE_PROOF_INVALID'];
  for (const [i, lie] of lies.entries()) {
    proxy.lie(lie);
    try {
      await assert.rejects(
        all(client(readOrgKey(net.home, { file: (net.orgs[1] as OrgKeyFile).file }), proxy.url), ['pharmacy'], 100),
        (e: unknown) => {
          assert.ok(e instanceof ClientError, String(e));
          assert.equal(e.code, expected[i], e.message);
          return true;
        },
      );
    } finally {
      proxy.lie(undefined);
    }
  }
});
