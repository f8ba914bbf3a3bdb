// The single-validator node over real HTTP: committing, proofs, and every bad-input path
// answering 4xx with a stable code while storing nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fromHex, sha256, toHex } from '@medledger/crypto';
import { leafHash, txBytes, verifyInclusion } from '@medledger/ledger';
import { get, newSigner, post, startSoloNode, type TestNode, waitFor } from './testing/harness.js';

let t: TestNode;
before(async () => {
  t = await startSoloNode();
});
after(async () => {
  await t.cleanup();
});

async function committed(hash: string) {
  return waitFor(async () => {
    const { json } = await get(`${t.url}/v1/txs/${hash}`);
    return json.status === 'pending' ? undefined : json;
  }, `tx ${hash} to leave the mempool`);
}

/** Assert a refusal: status, code, the error shape, and that nothing entered the mempool or chain. */
async function assertRefused(body: unknown, status: number, code: string, raw = false) {
  const before = (await get(`${t.url}/v1/status`)).json;
  const res = await post(`${t.url}/v1/txs`, body, raw);
  assert.equal(res.status, status, JSON.stringify(res.json));
  assert.equal(res.json.error.code, code);
  assert.equal(typeof res.json.error.message, 'string');
  assert.ok(res.json.error.message.length > 0);
  await new Promise((r) => setTimeout(r, 60));
  const after = (await get(`${t.url}/v1/status`)).json;
  assert.equal(after.mempool.txs, 0, 'nothing was admitted to the mempool');
  assert.equal(after.height, before.height, 'no block was made');
}

describe('single-validator node', () => {
  test('a registration is committed, with an inclusion proof that verifies against the block', async () => {
    const alice = newSigner();
    const tx = alice.register();
    const res = await post(`${t.url}/v1/txs`, tx);
    assert.equal(res.status, 202);
    assert.equal(res.json.status, 'pending');
    const status = await committed(res.json.hash);
    assert.equal(status.status, 'committed');
    // Anonymous: the header, commit and leaf hashes, not the transactions (docs/api.md).
    const block = (await get(`${t.url}/v1/blocks/${status.height}`)).json;
    assert.equal(block.bodies, 'withheld');
    assert.equal(block.block.txs, undefined);
    assert.equal(block.leaves[status.proof.leafIndex], toHex(leafHash(txBytes(tx))));
    assert.equal(status.tx, undefined, 'the transaction itself is not served anonymously');
    assert.equal(block.hash, status.blockHash);
    assert.equal(block.commit.blockHash, block.hash);
    const { proof } = status;
    assert.equal(proof.root, block.block.header.txRoot);
    const ok = verifyInclusion(
      leafHash(txBytes(tx)),
      proof.leafIndex,
      proof.treeSize,
      proof.path.map((p: string) => fromHex(p)),
      fromHex(proof.root),
    );
    assert.ok(ok);
    const account = (await get(`${t.url}/v1/accounts/${alice.signing.publicKey}`)).json;
    assert.equal(account.nonce, 1);
    assert.equal(account.identity.role, 'patient');
    assert.equal(account.identity.name, undefined, 'patients carry no name on chain');
  });

  test('no block is made while idle', async () => {
    const h0 = (await get(`${t.url}/v1/status`)).json.height;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await get(`${t.url}/v1/status`)).json.height, h0);
  });

  test('a signer may pipeline consecutive nonces', async () => {
    const bob = newSigner();
    const r0 = await post(`${t.url}/v1/txs`, bob.register(0));
    assert.equal(r0.status, 202);
    // a second registration by the same key passes the nonce check but fails the rule
    const r1 = await post(`${t.url}/v1/txs`, bob.register(1));
    assert.equal(r1.status, 409);
    assert.equal(r1.json.error.code, 'ALREADY_REGISTERED');
    await committed(r0.json.hash);
  });

  test('malformed JSON is refused with MALFORMED_JSON', async () => {
    await assertRefused('{"v":1,', 400, 'MALFORMED_JSON', true);
  });

  test('wrong field types are refused with MALFORMED_TX naming the field', async () => {
    const tx = { ...newSigner().register(), nonce: '0' };
    await assertRefused(tx, 400, 'MALFORMED_TX');
    const res = await post(`${t.url}/v1/txs`, tx);
    assert.match(res.json.error.message, /nonce/);
    await assertRefused([1, 2, 3], 400, 'MALFORMED_TX');
    await assertRefused({ ...newSigner().register(), extra: true }, 400, 'MALFORMED_TX');
  });

  test('an unknown transaction kind is refused', async () => {
    await assertRefused(newSigner().sign('record.teleport', {}, 0), 400, 'UNKNOWN_KIND');
  });

  test('a bad signature is refused', async () => {
    const tx = newSigner().register();
    const flipped = (tx.sig[0] === 'a' ? 'b' : 'a') + tx.sig.slice(1);
    await assertRefused({ ...tx, sig: flipped }, 400, 'BAD_SIGNATURE');
    // a valid signature over different content
    const other = newSigner().register();
    await assertRefused({ ...tx, sig: other.sig }, 400, 'BAD_SIGNATURE');
  });

  test('a transaction for another chain is refused', async () => {
    const s = newSigner();
    await assertRefused(
      s.sign('identity.register', { role: 'patient', encryptionKey: s.encryption.publicKey }, 0, 'other-chain'),
      400,
      'WRONG_CHAIN',
    );
  });

  test('a reused nonce (replay) and a skipped nonce are refused', async () => {
    const carol = newSigner();
    const tx = carol.register();
    const res = await post(`${t.url}/v1/txs`, tx);
    await committed(res.json.hash);
    const replay = await post(`${t.url}/v1/txs`, tx);
    assert.equal(replay.status, 409);
    assert.equal(replay.json.error.code, 'NONCE_REUSED');
    await assertRefused(
      carol.sign('identity.register', { role: 'patient', encryptionKey: carol.encryption.publicKey }, 5),
      409,
      'NONCE_GAP',
    );
    await assertRefused(newSigner().register(1), 409, 'NONCE_GAP');
  });

  test('a body over the limit is refused with 413', async () => {
    const big = { ...newSigner().register(), body: { role: 'patient', pad: 'x'.repeat(1024 * 1024) } };
    await assertRefused(big, 413, 'BODY_TOO_LARGE');
  });

  test('identifying fields are not accepted in a patient registration', async () => {
    const s = newSigner();
    await assertRefused(
      s.sign('identity.register', { role: 'patient', encryptionKey: s.encryption.publicKey, name: 'Jane Doe' }, 0),
      400,
      'INVALID_BODY',
    );
  });

  test('unknown ids answer 404 with a code, bad ids 400', async () => {
    const miss = await get(`${t.url}/v1/txs/${'ab'.repeat(32)}`);
    assert.equal(miss.status, 404);
    assert.equal(miss.json.error.code, 'TX_NOT_FOUND');
    const bad = await get(`${t.url}/v1/txs/xyz`);
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'INVALID_PARAM');
    const noBlock = await get(`${t.url}/v1/blocks/999999`);
    assert.equal(noBlock.status, 404);
    assert.equal(noBlock.json.error.code, 'BLOCK_NOT_FOUND');
    const noRoute = await get(`${t.url}/v1/nothing`);
    assert.equal(noRoute.status, 404);
  });

  test('a batch admits each transaction on its own and reports each refusal', async () => {
    const good = newSigner().register();
    const bad = { ...newSigner().register(), sig: good.sig };
    const res = await post(`${t.url}/v1/txs/batch`, { txs: [good, bad, { nonsense: true }] });
    assert.equal(res.status, 200);
    assert.equal(res.json.results[0].status, 'pending');
    assert.deepEqual(
      res.json.results.slice(1).map((r: { status: string; error: { code: string } }) => [r.status, r.error.code]),
      [
        ['refused', 'BAD_SIGNATURE'],
        ['refused', 'MALFORMED_TX'],
      ],
    );
    await committed(res.json.results[0].hash);
    const notArray = await post(`${t.url}/v1/txs/batch`, { txs: 'x' });
    assert.equal(notArray.status, 400);
    assert.equal(notArray.json.error.code, 'INVALID_BODY');
    const tooMany = await post(`${t.url}/v1/txs/batch`, { txs: Array.from({ length: 501 }, () => ({})) });
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.json.error.code, 'INVALID_BODY');
  });

  test('a body that is not JSON is refused with 415', async () => {
    const res = await fetch(`${t.url}/v1/txs`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    assert.equal(res.status, 415);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('status reports the chain', async () => {
    const { json } = await get(`${t.url}/v1/status`);
    for (const k of ['chainId', 'nodeId', 'height', 'lastBlockHash', 'validators', 'peers']) assert.ok(k in json, k);
    assert.equal(json.chainId, 'test-chain');
    assert.equal(json.validators.length, 1);
  });

  test("a peer's relay the rules refuse is admitted on signature and nonce, then committed as refused with its code and nonce used", async () => {
    const mallory = newSigner();
    // The rules refuse this (a malformed encryption key): a client submitting it is told at once.
    const bad = mallory.sign('identity.register', { role: 'patient', encryptionKey: 'zz' }, 0);
    await assertRefused(bad, 400, 'INVALID_BODY');
    // A peer relaying it (the node its client used ran the rules, or lied): only the shared checks run here.
    const admission = (t.node as unknown as { admission: { admitFromPeer(raw: unknown): void } }).admission;
    admission.admitFromPeer(JSON.parse(JSON.stringify(bad)));
    const hash = toHex(sha256(txBytes(bad)));
    const status = await committed(hash);
    assert.equal(status.status, 'rejected');
    assert.equal(status.code, 'INVALID_BODY');
    assert.equal(typeof status.height, 'number', 'the refusal is on chain, in a block');
    const account = (await get(`${t.url}/v1/accounts/${mallory.signing.publicKey}`)).json;
    assert.equal(account.nonce, 1, 'the refused relay used its nonce, so it cannot be replayed');
    assert.equal(account.identity, null, 'and wrote nothing else');
    // A relay with a bad signature or the wrong nonce never enters the mempool.
    const forged = { ...mallory.register(1), body: { role: 'patient', encryptionKey: newSigner().encryption.publicKey } };
    admission.admitFromPeer(forged);
    admission.admitFromPeer(mallory.register(5));
    await new Promise((r) => setTimeout(r, 60));
    assert.equal((await get(`${t.url}/v1/status`)).json.mempool.txs, 0);
  });

  test('a replay is still refused after a restart (nonces live in state)', async () => {
    const dave = newSigner();
    const tx = dave.register();
    const res = await post(`${t.url}/v1/txs`, tx);
    await committed(res.json.hash);
    t = await t.restart();
    const replay = await post(`${t.url}/v1/txs`, tx);
    assert.equal(replay.status, 409);
    assert.equal(replay.json.error.code, 'NONCE_REUSED');
    assert.equal((await get(`${t.url}/v1/txs/${res.json.hash}`)).json.status, 'committed');
  });
});
