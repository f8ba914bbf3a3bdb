// Perturbations of a four-validator MedLedger network on the real CometBFT binary: kill -9
// of one validator then restart, SIGSTOP/SIGCONT, two of four down then back. After each,
// no fork (one block hash and one app hash per height on every validator) and no
// acknowledged transaction lost (everything CheckTx accepted is committed everywhere).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type SignedTx, txBytes, txHash } from '@medledger/ledger';
import { actor, records, startNet, waitHeight } from '../testing/cometbft-net.js';
import { waitFor } from '../testing/harness.js';
import type { CometValidator } from './validator.js';

test('kill -9, SIGSTOP and two of four down on CometBFT: no fork and no acknowledged transaction lost', async () => {
  const net = await startNet(4);
  const at = (i: number) => net.validators[i] as CometValidator;
  const acknowledged: SignedTx[] = [];
  /** Submit through validator `i`; CheckTx's acceptance is the acknowledgement. */
  const submit = async (i: number, tx: SignedTx) => {
    const r = await at(i).rpc.broadcastTxSync(txBytes(tx));
    assert.equal(r.code, 0, `CheckTx refused: ${new TextDecoder().decode(r.data)}`);
    acknowledged.push(tx);
  };
  const committedOn = (i: number, tx: SignedTx, timeoutMs = 60_000) =>
    waitFor(
      () =>
        at(i)
          .rpc.tx(txHash(tx))
          .catch((err: Error) => {
            // A restarted CometBFT's RPC comes up a moment after the process.
            if (/unreachable/.test(err.message)) return undefined;
            throw err;
          }),
      `tx committed on validator ${i}\n${at(i).comet.tail()}`,
      timeoutMs,
    );
  try {
    await Promise.all(net.validators.map((v) => waitHeight(v, 2, 90_000)));
    const patient = actor();
    const txs = records(patient);
    await submit(0, txs.register);
    await committedOn(0, txs.register);

    // kill -9 one validator's CometBFT: its application stops with it; three go on.
    at(3).comet.child.kill('SIGKILL');
    const a1 = txs.anchor();
    await submit(1, a1);
    await committedOn(1, a1);
    await net.restart(3);
    await committedOn(3, a1);

    // SIGSTOP one: the other three commit; after SIGCONT it catches up.
    at(2).comet.child.kill('SIGSTOP');
    const a2 = txs.anchor();
    await submit(0, a2);
    await committedOn(0, a2);
    at(2).comet.child.kill('SIGCONT');
    await committedOn(2, a2);

    // Two of four down: no quorum, nothing commits, but the acknowledged tx waits in the mempool.
    at(2).comet.child.kill('SIGKILL');
    at(3).comet.child.kill('SIGKILL');
    const a3 = txs.anchor();
    await submit(0, a3);
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(await at(0).rpc.tx(txHash(a3)), undefined, 'nothing commits without more than 2/3');
    await net.restart(2);
    await net.restart(3);
    await committedOn(0, a3, 90_000);

    // Every acknowledged transaction is committed at one height on every validator.
    const top = Math.max(...(await Promise.all(acknowledged.map(async (tx) => (await committedOn(0, tx)).height))));
    await Promise.all(net.validators.map((v) => waitHeight(v, top + 1, 90_000)));
    // Read from each validator's block store, not its tx index: CometBFT indexes after the
    // commit, asynchronously, so a kill -9 in between loses the index entry (never the block).
    for (const tx of acknowledged) {
      const { height } = await committedOn(0, tx);
      const wanted = Buffer.from(txBytes(tx)).toString('base64');
      for (const i of [0, 1, 2, 3]) {
        const block = (await at(i).rpc.raw('block', { height: String(height) })) as { block: { data: { txs: string[] | null } } };
        assert.ok((block.block.data.txs ?? []).includes(wanted), `validator ${i} has the acknowledged tx in its block ${height}`);
      }
    }
    // No fork: one block hash per height across CometBFT, one app hash per height across the applications.
    for (let h = 1; h <= top; h++) {
      const ids = await Promise.all(
        net.validators.map(
          async (v) =>
            ((await v.rpc.raw('commit', { height: String(h) })) as { signed_header: { commit: { block_id: { hash: string } } } })
              .signed_header.commit.block_id.hash,
        ),
      );
      assert.equal(new Set(ids).size, 1, `one block at height ${h}`);
      const appHashes = net.commits.map((c) => c.get(h)?.appHash).filter((x) => x !== undefined);
      // Validators 0 and 1 never went down, so their applications saw every height.
      assert.ok(net.commits[0]?.has(h) && net.commits[1]?.has(h), `validators 0 and 1 committed height ${h}`);
      assert.equal(new Set(appHashes).size, 1, `one app hash at height ${h}`);
    }
  } finally {
    for (const v of net.validators) if (v.comet.child.exitCode === null) v.comet.child.kill('SIGCONT');
    await net.cleanup();
  }
});
