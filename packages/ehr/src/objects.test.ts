// Vault object ownership as pure rules: an object hash belongs to one record; nothing else may
// name it, and only its record releases it (erasure, a replaced or rewrapped envelope).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { generateEncryptionKeyPair, generateSigningKeyPair, idFromPublicKey, KEY_ENVELOPE_BYTES, toHex } from '@medledger/crypto';
import { type Genesis, type SignedTx, signTx } from '@medledger/ledger';
import { EhrApp, initChain } from './app.js';
import { MemoryCommittedState } from './committed.js';
import { namedObjects, objectEffects, objectOwner, objectSizeOnChain } from './objects.js';
import { getRecord } from './policy.js';
import type { StateWrite } from './state.js';

const CHAIN = 'objects-test';
const T0 = 1_700_000_000_000;

function actor() {
  const signing = generateSigningKeyPair();
  const encryption = generateEncryptionKeyPair();
  let nonce = 0;
  return {
    encryption,
    id: idFromPublicKey(signing.publicKey),
    tx: (kind: string, body: Record<string, unknown>): SignedTx =>
      signTx({ v: 1, chain: CHAIN, kind, signer: signing.publicKey, nonce: nonce++, body }, signing.privateKey),
  };
}

/** Two registered patients with emergency keys, and a block function that keeps each block's writes. */
function world() {
  const org = actor();
  const genesis: Genesis = {
    chainId: CHAIN,
    genesisTime: T0,
    validators: [{ name: 'v0', publicKey: generateSigningKeyPair().publicKey, encryptionKey: org.encryption.publicKey, power: 1 }],
    organizations: [
      {
        name: 'General Hospital',
        kind: 'hospital',
        adminKey: generateSigningKeyPair().publicKey,
        adminEncryptionKey: org.encryption.publicKey,
      },
    ],
    params: { maxBlockTxs: 1000, maxBlockBytes: 1 << 20, maxClockDriftMs: 10_000 },
  };
  const state = new MemoryCommittedState();
  state.apply(initChain(genesis));
  const app = new EhrApp(CHAIN, state);
  let height = 0;
  let lastWrites: StateWrite[] = [];
  const block = (txs: SignedTx[]): string[] => {
    height += 1;
    const exec = app.finalizeBlock({ height, time: T0 + 1000 * height, txs });
    state.apply(exec);
    lastWrites = exec.writes;
    app.commit();
    return exec.results.map((r) => r.code);
  };
  const register = (p: ReturnType<typeof actor>) =>
    p.tx('identity.register', {
      role: 'patient',
      encryptionKey: p.encryption.publicKey,
      emergencyKey: generateEncryptionKeyPair().publicKey,
    });
  const victim = actor();
  const attacker = actor();
  assert.deepEqual(block([register(victim), register(attacker)]), ['ok', 'ok']);
  return { state, block, victim, attacker, effects: () => objectEffects(lastWrites) };
}

const hash = () => toHex(randomBytes(32));
const rid = () => toHex(randomBytes(16));

function anchorBody(patient: string) {
  return {
    record: rid(),
    patient,
    resourceType: 'Observation',
    category: 'vital-signs',
    contentHash: hash(),
    size: 300,
    envelopes: [
      { to: patient, hash: hash() },
      { to: 'emergency', hash: hash() },
    ],
  };
}

/** A consent.grant body: `grantee` may read `record` (a share to it is then allowed). */
function readGrant(patient: string, grantee: string, record: string) {
  return { patient, grantee, scope: { records: [record] }, access: 'read', purpose: 'treatment' };
}

test('an anchor makes its record the one owner of its ciphertext and envelopes', () => {
  const w = world();
  const body = anchorBody(w.victim.id);
  assert.deepEqual(w.block([w.victim.tx('record.anchor', body)]), ['ok']);
  const all = [body.contentHash, ...body.envelopes.map((e) => e.hash)];
  for (const h of all) assert.deepEqual(objectOwner(w.state, h), { record: body.record, released: false });
  assert.deepEqual(w.effects(), { anchored: [...all].sort(), released: [] });
});

test('an anchor naming another record’s ciphertext or envelope is refused OBJECT_IN_USE', () => {
  const w = world();
  const victim = anchorBody(w.victim.id);
  assert.deepEqual(w.block([w.victim.tx('record.anchor', victim)]), ['ok']);
  const stealContent = { ...anchorBody(w.attacker.id), contentHash: victim.contentHash };
  const own = anchorBody(w.attacker.id);
  const stealEnvelope = { ...own, envelopes: [{ to: w.attacker.id, hash: victim.envelopes[0]?.hash }, own.envelopes[1]] };
  assert.deepEqual(w.block([w.attacker.tx('record.anchor', stealContent), w.attacker.tx('record.anchor', stealEnvelope)]), [
    'OBJECT_IN_USE',
    'OBJECT_IN_USE',
  ]);
  // The victim's erasure is the only one that deletes them.
  assert.deepEqual(w.effects(), { anchored: [], released: [] });
});

test('one hash twice in one anchor, or in two anchors of one block, is refused', () => {
  const w = world();
  const twice = anchorBody(w.victim.id);
  twice.envelopes[1] = { to: 'emergency', hash: twice.envelopes[0]?.hash as string };
  const contentAsEnvelope = anchorBody(w.victim.id);
  contentAsEnvelope.envelopes[0] = { to: w.victim.id, hash: contentAsEnvelope.contentHash };
  const first = anchorBody(w.victim.id);
  const race = { ...anchorBody(w.attacker.id), contentHash: first.contentHash };
  assert.deepEqual(
    w.block([
      w.victim.tx('record.anchor', twice),
      w.victim.tx('record.anchor', contentAsEnvelope),
      w.victim.tx('record.anchor', first),
      w.attacker.tx('record.anchor', race),
    ]),
    ['OBJECT_IN_USE', 'OBJECT_IN_USE', 'ok', 'OBJECT_IN_USE'],
  );
});

test('erasure releases exactly the record’s own objects, and an erased hash is never claimed again', () => {
  const w = world();
  const body = anchorBody(w.victim.id);
  assert.deepEqual(w.block([w.victim.tx('record.anchor', body)]), ['ok']);
  const reader = w.attacker.id;
  assert.deepEqual(w.block([w.victim.tx('consent.grant', readGrant(w.victim.id, reader, body.record))]), ['ok']);
  const shared = hash();
  assert.deepEqual(w.block([w.victim.tx('record.share', { envelopes: [{ record: body.record, to: reader, hash: shared }] })]), ['ok']);
  const other = anchorBody(w.victim.id);
  assert.deepEqual(w.block([w.victim.tx('record.anchor', other)]), ['ok']);
  assert.deepEqual(w.block([w.victim.tx('record.erase', { record: body.record })]), ['ok']);
  const owned = [body.contentHash, ...body.envelopes.map((e) => e.hash), shared];
  assert.deepEqual(w.effects(), { anchored: [], released: [...owned].sort() });
  for (const h of [other.contentHash, ...other.envelopes.map((e) => e.hash)]) assert.equal(objectOwner(w.state, h)?.released, false);
  const reuse = { ...anchorBody(w.attacker.id), contentHash: body.contentHash };
  assert.deepEqual(w.block([w.attacker.tx('record.anchor', reuse)]), ['OBJECT_IN_USE']);
});

test('a share replacing a recipient’s envelope releases the old one; a repeated pair or a used hash is refused', () => {
  const w = world();
  const body = anchorBody(w.victim.id);
  const theirs = anchorBody(w.attacker.id);
  assert.deepEqual(w.block([w.victim.tx('record.anchor', body), w.attacker.tx('record.anchor', theirs)]), ['ok', 'ok']);
  const reader = w.attacker.id;
  assert.deepEqual(w.block([w.victim.tx('consent.grant', readGrant(w.victim.id, reader, body.record))]), ['ok']);
  const [e1, e2, e3] = [hash(), hash(), hash()];
  const share = (items: Array<{ to: string; hash: string }>) =>
    w.victim.tx('record.share', { envelopes: items.map((i) => ({ record: body.record, ...i })) });
  assert.deepEqual(
    w.block([
      share([
        { to: reader, hash: e1 },
        { to: reader, hash: e2 },
      ]),
    ]),
    ['INVALID_BODY'],
  );
  assert.deepEqual(w.block([share([{ to: reader, hash: e1 }])]), ['ok']);
  assert.deepEqual(w.effects(), { anchored: [e1], released: [] });
  assert.deepEqual(w.block([share([{ to: reader, hash: e3 }])]), ['ok']);
  assert.deepEqual(w.effects(), { anchored: [e3], released: [e1] });
  assert.equal(getRecord(w.state, body.record)?.envelopes[reader], e3);
  // Re-sharing the current hash, a released one, or another patient's object: all in use.
  for (const h of [e3, e1, theirs.contentHash]) assert.deepEqual(w.block([share([{ to: reader, hash: h }])]), ['OBJECT_IN_USE']);
  // A grant's envelopes follow the same rule.
  const grant = readGrant(w.victim.id, reader, body.record);
  assert.deepEqual(w.block([w.victim.tx('consent.grant', { ...grant, envelopes: [{ record: body.record, hash: theirs.contentHash }] })]), [
    'OBJECT_IN_USE',
  ]);
});

test('a rewrap must name a fresh object; the old emergency envelope is released and cannot come back', () => {
  const w = world();
  const body = anchorBody(w.victim.id);
  const theirs = anchorBody(w.attacker.id);
  assert.deepEqual(w.block([w.victim.tx('record.anchor', body), w.attacker.tx('record.anchor', theirs)]), ['ok', 'ok']);
  const old = body.envelopes[1]?.hash as string;
  const rewrap = (h: string, from = old) => w.victim.tx('emergency.rewrap', { envelopes: [{ record: body.record, old: from, hash: h }] });
  assert.deepEqual(w.block([rewrap(theirs.contentHash), rewrap(body.contentHash)]), ['OBJECT_IN_USE', 'OBJECT_IN_USE']);
  const fresh = hash();
  assert.deepEqual(w.block([rewrap(fresh)]), ['ok']);
  assert.deepEqual(w.effects(), { anchored: [fresh], released: [old] });
  assert.deepEqual(w.block([rewrap(old, fresh)]), ['OBJECT_IN_USE']);
});

test('namedObjects lists what a transaction names, for the node’s vault checks', () => {
  const body = anchorBody('ab'.repeat(20));
  assert.deepEqual(namedObjects('record.anchor', body), {
    content: { hash: body.contentHash, size: 300 },
    envelopes: body.envelopes.map((e) => e.hash),
  });
  assert.deepEqual(namedObjects('emergency.rewrap', { envelopes: [{ record: rid(), old: 'x', hash: 'y' }] }), { envelopes: ['y'] });
  assert.deepEqual(namedObjects('consent.grant', { patient: 'p' }), { envelopes: [] });
  assert.deepEqual(namedObjects('record.erase', { record: rid() }), { envelopes: [] });
});

test('objectSizeOnChain: the declared size for a ciphertext, a key envelope’s for an envelope, nothing once released', () => {
  const w = world();
  const body = anchorBody(w.victim.id);
  assert.deepEqual(w.block([w.victim.tx('record.anchor', body)]), ['ok']);
  assert.equal(objectSizeOnChain(w.state, body.contentHash), 300);
  assert.equal(objectSizeOnChain(w.state, body.envelopes[0]?.hash as string), KEY_ENVELOPE_BYTES);
  assert.equal(objectSizeOnChain(w.state, hash()), undefined);
  assert.deepEqual(w.block([w.victim.tx('record.erase', { record: body.record })]), ['ok']);
  assert.equal(objectSizeOnChain(w.state, body.contentHash), undefined);
});
