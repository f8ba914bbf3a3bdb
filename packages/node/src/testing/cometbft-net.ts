// A MedLedger network on the real CometBFT binary for tests (docs/cometbft.md): n validators,
// each the EHR application's ABCI server plus a supervised CometBFT, on free loopback ports,
// with every application's committed blocks recorded so tests can compare them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateEncryptionKeyPair, generateSigningKeyPair, idFromPublicKey, type SigningKeyPair, toHex } from '@medledger/crypto';
import { type Genesis, type SignedTx, signTx, txBytes, txHash } from '@medledger/ledger';
import { writeCometHome } from '../abci/cometbft-home.js';
import { cometBftBinary } from '../abci/cometbft-process.js';
import type { AbciCommittedBlock } from '../abci/ehr-app.js';
import { type CometValidator, startCometValidator } from '../abci/validator.js';
import { freePort, waitFor } from './harness.js';

export const CHAIN = 'comet-test';
export const CONSENSUS = {
  timeouts: { propose: 1000, proposeDelta: 500, prevote: 500, prevoteDelta: 250, precommit: 500, precommitDelta: 250 },
  blockIntervalMs: 200,
  heartbeatMs: 2000,
};

export function actor(chain = CHAIN) {
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

export interface Net {
  genesis: Genesis;
  /** The genesis member organization (the only one), which proposes and votes alone. */
  org: ReturnType<typeof actor>;
  validators: CometValidator[];
  /** Every validator's committed blocks, as its own application saw them. */
  commits: Array<Map<number, AbciCommittedBlock>>;
  /** Stop validator `i` and start it again; `wipeState` first deletes its application state, as an operator recovering from a corrupt state would. */
  restart(i: number, opts?: { wipeState?: boolean }): Promise<void>;
  cleanup(): Promise<void>;
}

/** `n` validators, each a CometBFT process plus the EHR application, on free loopback ports. */
export async function startNet(n: number): Promise<Net> {
  const binary = cometBftBinary();
  const dir = mkdtempSync(join(tmpdir(), 'medledger-comet-'));
  const keys: SigningKeyPair[] = Array.from({ length: n }, () => generateSigningKeyPair());
  const org = actor();
  const genesis: Genesis = {
    chainId: CHAIN,
    engine: 'cometbft',
    genesisTime: Date.now() - 1000,
    validators: keys.map((k, i) => ({
      name: `validator-${i}`,
      publicKey: k.publicKey,
      encryptionKey: generateEncryptionKeyPair().publicKey,
      power: 1,
    })),
    organizations: [
      { name: 'General Hospital', kind: 'hospital', adminKey: org.signing.publicKey, adminEncryptionKey: org.encryption.publicKey },
    ],
    params: { maxBlockTxs: 5000, maxBlockBytes: 8 * 1024 * 1024, maxClockDriftMs: 10_000 },
  };
  const ports: Array<{ p2p: number; rpc: number; abci: number }> = [];
  for (let i = 0; i < n; i++) ports.push({ p2p: await freePort(), rpc: await freePort(), abci: await freePort() });
  keys.forEach((key, i) => {
    writeCometHome(genesis, {
      dir: join(dir, `v${i}`, 'cometbft'),
      moniker: `validator-${i}`,
      key,
      ports: ports[i] as { p2p: number; rpc: number; abci: number },
      peers: keys.flatMap((k, j) =>
        j === i ? [] : [{ publicKey: k.publicKey, host: '127.0.0.1', p2pPort: (ports[j] as { p2p: number }).p2p }],
      ),
      consensus: CONSENSUS,
      logLevel: 'error',
    });
  });
  const commits = keys.map(() => new Map<number, AbciCommittedBlock>());
  const start = (i: number) =>
    startCometValidator(
      {
        genesis,
        statePath: join(dir, `v${i}`, 'app.db'),
        cometHome: join(dir, `v${i}`, 'cometbft'),
        abciPort: (ports[i] as { abci: number }).abci,
        rpcPort: (ports[i] as { rpc: number }).rpc,
        binary,
      },
      { log: () => {}, onCommit: (b) => (commits[i] as Map<number, AbciCommittedBlock>).set(b.height, b) },
    );
  const validators: CometValidator[] = [];
  for (let i = 0; i < n; i++) validators.push(await start(i));
  return {
    genesis,
    org,
    validators,
    commits,
    restart: async (i, opts = {}) => {
      await (validators[i] as CometValidator).stop();
      if (opts.wipeState === true) for (const f of ['app.db', 'app.db-wal', 'app.db-shm']) rmSync(join(dir, `v${i}`, f), { force: true });
      validators[i] = await start(i);
    },
    cleanup: async () => {
      await Promise.all(validators.map((v) => v.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Wait until CometBFT's RPC answers with a height of at least `height`. */
export async function waitHeight(v: CometValidator, height: number, timeoutMs = 60_000): Promise<number> {
  return waitFor(
    async () => {
      try {
        const s = await v.rpc.status();
        return s.height >= height ? s.height : undefined;
      } catch {
        return undefined;
      }
    },
    `CometBFT height ${height}\n${v.comet.tail()}`,
    timeoutMs,
  );
}

/** Submit through broadcast_tx_sync; asserts admission, the hash, and waits for the commit. */
export async function submitAndCommit(v: CometValidator, tx: SignedTx): Promise<{ height: number; result: { code: string; log: string } }> {
  const r = await v.rpc.broadcastTxSync(txBytes(tx));
  assert.equal(r.code, 0, `CheckTx refused: ${new TextDecoder().decode(r.data)}`);
  // CometBFT's tx hash is SHA-256 of the bytes: the canonical bytes make it MedLedger's.
  assert.equal(r.hash.toLowerCase(), txHash(tx));
  const found = await waitFor(() => v.rpc.tx(txHash(tx)), `tx ${txHash(tx)} committed\n${v.comet.tail()}`, 60_000);
  return { height: found.height, result: JSON.parse(new TextDecoder().decode(found.data)) };
}

const hash = () => toHex(randomBytes(32));

/** A patient's registration (with an emergency key) and record anchors of its own. */
export function records(patient: ReturnType<typeof actor>) {
  const emergency = generateEncryptionKeyPair();
  return {
    register: patient.tx('identity.register', {
      role: 'patient',
      encryptionKey: patient.encryption.publicKey,
      emergencyKey: emergency.publicKey,
    }),
    anchor: () =>
      patient.tx('record.anchor', {
        record: toHex(randomBytes(16)),
        patient: patient.id,
        resourceType: 'Observation',
        category: 'vital-signs',
        contentHash: hash(),
        size: 300,
        envelopes: [
          { to: patient.id, hash: hash() },
          { to: 'emergency', hash: hash() },
        ],
      }),
  };
}
