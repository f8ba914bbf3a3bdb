// GET /v1/blocks/:height under CometBFT shows transactions by the embedded engine's rule
// (chain-view.ts, docs/api.md "Blocks and transactions: who sees what"): prescription
// transactions only to validators and their parties, even within the consortium (issue 14).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { idFromPublicKey } from '@medledger/crypto';
import { type Identity, keys } from '@medledger/ehr';
import type { SignedTx } from '@medledger/ledger';
import { newSigner } from '../testing/harness.js';
import { cometBlockView } from './comet-blocks.js';

const hospital = newSigner();
const clinician = newSigner();
const maker = newSigner();
const patient = newSigner();
const validator = newSigner();
const idOf = (s: ReturnType<typeof newSigner>) => idFromPublicKey(s.signing.publicKey);
const identity = (s: ReturnType<typeof newSigner>, fields: Partial<Identity> & Pick<Identity, 'role'>): Identity => ({
  registeredAt: { height: 1, time: 0 },
  id: idOf(s),
  publicKey: s.signing.publicKey,
  encryptionKey: s.encryption.publicKey,
  status: 'active',
  ...fields,
});
const people = {
  hospital: identity(hospital, { role: 'organization', orgKind: 'hospital', name: 'General' }),
  clinician: identity(clinician, { role: 'clinician', org: idOf(hospital), name: 'Dr A' }),
  maker: identity(maker, { role: 'manufacturer', orgKind: 'manufacturer', name: 'Acme Pharma' }),
  patient: identity(patient, { role: 'patient' }),
  validator: identity(validator, { role: 'validator', name: 'v0' }),
};
const state = new Map<string, string>();
for (const who of Object.values(people)) {
  state.set(keys.identity(who.id), JSON.stringify(who));
  state.set(keys.signingKey(who.publicKey), who.id);
}

const prescribe = clinician.sign('rx.prescribe', { patient: idOf(patient), pharmacy: idOf(hospital), rxnorm: '308182' }, 0);
const grant = patient.sign('consent.grant', { patient: idOf(patient), grantee: idOf(clinician) }, 0);
const txs: SignedTx[] = [grant, prescribe];

const view = (caller: Identity | undefined) =>
  cometBlockView(
    {
      raw: async () => ({ signed_header: { header: { height: '5' }, commit: { height: '5', block_id: { hash: 'AB'.repeat(32) } } } }),
      recent: { txsAt: () => txs },
      state: { getState: (key) => state.get(key) },
      resultOf: () => ({ code: 'ok', log: '' }),
    },
    5,
    caller,
  ) as Promise<{ bodies: string; block: { txs?: SignedTx[] }; own?: Array<{ index: number; tx: SignedTx }> }>;

test('a consortium member no party to a prescription gets the block withheld, with the rest as its own', async () => {
  const seen = await view(people.maker);
  assert.equal(seen.bodies, 'withheld');
  assert.equal(seen.block.txs, undefined, 'the prescription does not reach a manufacturer');
  assert.deepEqual(
    seen.own?.map((o) => [o.index, o.tx.kind]),
    [[0, 'consent.grant']],
  );
});

test('validators and the prescriber’s organization see it in full; the patient sees both transactions naming them', async () => {
  assert.equal((await view(people.validator)).bodies, 'full');
  const org = await view(people.hospital);
  assert.equal(org.bodies, 'full');
  assert.equal(org.block.txs?.length, 2);
  const own = await view(people.patient);
  assert.equal(own.bodies, 'withheld');
  assert.deepEqual(
    own.own?.map((o) => o.tx.kind),
    ['consent.grant', 'rx.prescribe'],
  );
  const anonymous = await view(undefined);
  assert.deepEqual(anonymous.own, []);
});
