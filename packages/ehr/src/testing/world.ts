// A small chain for rule tests (governance, emergency keys, re-sharing): identities that sign
// their own transactions with counted nonces, a genesis of founding organizations and
// validators, and blocks applied one after another to the pure state machine. No network.

import assert from 'node:assert/strict';
import { generateEncryptionKeyPair, generateSigningKeyPair, idFromPublicKey } from '@medledger/crypto';
import { type Genesis, type SignedTx, signTx } from '@medledger/ledger';
import { EhrApp, emergencyParams, initChain } from '../app.js';
import { MemoryCommittedState } from '../committed.js';
import type { StateWrite } from '../state.js';

/** An identity's keys, id, and a signer of its next transaction on `chain`. */
export function testActor(chain: string) {
  const signing = generateSigningKeyPair();
  const encryption = generateEncryptionKeyPair();
  let nonce = 0;
  return {
    signing,
    encryption,
    id: idFromPublicKey(signing.publicKey),
    tx: (kind: string, body: Record<string, unknown>): SignedTx =>
      signTx({ v: 1, chain, kind, signer: signing.publicKey, nonce: nonce++, body }, signing.privateKey),
  };
}
export type TestActor = ReturnType<typeof testActor>;

/** A genesis naming `orgs` as hospitals and `validators` (power 1 each); `params` override the defaults. */
export function testGenesis(
  chain: string,
  time: number,
  orgs: readonly TestActor[],
  validators: readonly TestActor[],
  params: Partial<Genesis['params']> = {},
): Genesis {
  return {
    chainId: chain,
    genesisTime: time,
    validators: validators.map((v, i) => ({
      name: `v${i}`,
      publicKey: v.signing.publicKey,
      encryptionKey: v.encryption.publicKey,
      power: 1,
    })),
    organizations: orgs.map((o, i) => ({
      name: `Org ${i}`,
      kind: 'hospital',
      adminKey: o.signing.publicKey,
      adminEncryptionKey: o.encryption.publicKey,
    })),
    params: { maxBlockTxs: 1000, maxBlockBytes: 1 << 20, maxClockDriftMs: 10_000, ...params },
  };
}

/**
 * The state machine from `genesis`, and `block(txs, at?)`, which executes and commits the next
 * block (one second after the last unless `at` says when) and returns each transaction's code.
 * `emergency: false` runs it without the emergency parameters (as before they existed).
 */
export function testChain(genesis: Genesis, opts: { emergency?: boolean } = {}) {
  const state = new MemoryCommittedState();
  state.apply(initChain(genesis));
  const app = new EhrApp(genesis.chainId, state, opts.emergency === false ? undefined : emergencyParams(genesis));
  let height = 0;
  let time = genesis.genesisTime;
  const block = (txs: SignedTx[], at = time + 1000): string[] => {
    height += 1;
    time = at;
    const exec = app.finalizeBlock({ height, time, txs });
    state.apply(exec);
    app.commit();
    return exec.results.map((r) => r.code);
  };
  return { state, app, block, height: () => height, now: () => time };
}

/**
 * Replay a test world's blocks through a second, independent application from the same
 * genesis, asserting each block writes byte-identical state; returns that application's state.
 */
export function replayIndependently(
  chain: string,
  recorded: { genesis: Genesis; log: ReadonlyArray<{ time: number; txs: SignedTx[] }>; writes: ReadonlyArray<readonly StateWrite[]> },
): MemoryCommittedState {
  const state = new MemoryCommittedState();
  state.apply(initChain(recorded.genesis));
  const app = new EhrApp(chain, state);
  recorded.log.forEach((b, i) => {
    const exec = app.finalizeBlock({ height: i + 1, time: b.time, txs: b.txs });
    assert.equal(JSON.stringify(exec.writes), JSON.stringify(recorded.writes[i]), `block ${i + 1}`);
    state.apply(exec);
    app.commit();
  });
  return state;
}
