// Proposals as peers relay them: a body altered in transit must not stand for the block the
// proposer signed. The consensus driver runs on its ports (as in engine-ports.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { proposerFor } from '@medledger/consensus';
import { generateEncryptionKeyPair, generateSigningKeyPair, type SigningKeyPair } from '@medledger/crypto';
import { blockHash, type Genesis } from '@medledger/ledger';
import { MemoryStore } from '@medledger/storage';
import { Chain } from './chain.js';
import { Mempool } from './mempool.js';
import { signProposal } from './messages.js';
import type { PeerNet } from './ports.js';
import { TendermintEngine } from './tendermint.js';
import { newSigner, waitFor } from './testing/harness.js';

const wire = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/** Two validators: `self` runs the engine under test, `proposer` proposes height 1 round 0. */
function setup() {
  const a = generateSigningKeyPair();
  const b = generateSigningKeyPair();
  const validator = (name: string, key: SigningKeyPair) => ({
    name,
    publicKey: key.publicKey,
    encryptionKey: generateEncryptionKeyPair().publicKey,
    power: 1,
  });
  const validators = [validator('a', a), validator('b', b)];
  const first = proposerFor(
    validators.map((v) => ({ id: v.publicKey, power: v.power })),
    1,
    0,
  );
  const [proposer, self] = first === a.publicKey ? [a, b] : [b, a];
  const genesis: Genesis = {
    chainId: 'relay-test',
    genesisTime: Date.now() - 1_000,
    validators,
    organizations: [],
    params: { maxBlockTxs: 1000, maxBlockBytes: 1 << 20, maxClockDriftMs: 10_000 },
  };
  const chain = new Chain(genesis, new MemoryStore());
  const mempool = new Mempool({ maxTxs: 100, maxBytes: 1 << 20 });
  const sent: Array<Record<string, unknown>> = [];
  const net: PeerNet = { send: () => {}, broadcast: (msg) => sent.push(msg), disconnect: () => {}, nameOf: (peer) => peer };
  const engine = new TendermintEngine(
    {
      chainId: genesis.chainId,
      key: self,
      maxBlockTxs: genesis.params.maxBlockTxs,
      maxBlockBytes: genesis.params.maxBlockBytes,
      consensus: {
        blockIntervalMs: 10,
        heartbeatMs: 0,
        timeouts: { propose: 5_000, proposeDelta: 100, prevote: 5_000, prevoteDelta: 100, precommit: 5_000, precommitDelta: 100 },
      },
    },
    {
      chain,
      commitDecided: (block, commit) => {
        chain.commitBlock(block, commit);
      },
      mempool,
      meta: new MemoryStore(),
      net,
      onEvidence: () => {},
      now: Date.now,
      log: () => {},
    },
  );
  // The proposer's own chain builds the block it signs.
  const proposerChain = new Chain(genesis, new MemoryStore());
  const propose = (txs: ReturnType<ReturnType<typeof newSigner>['register']>[]) => {
    const block = proposerChain.buildBlock(txs, proposerChain.nextBlockTime(Date.now()), proposer.publicKey);
    const hash = blockHash(block.header);
    const proposal = signProposal(
      genesis.chainId,
      { height: 1, round: 0, blockHash: hash, validRound: -1, proposer: proposer.publicKey },
      proposer.privateKey,
    );
    return { hash, block, proposal };
  };
  const prevotes = () =>
    sent.filter((m) => m.type === 'vote').map((m) => m.vote as { type: string; blockHash: string | null; validator: string });
  return { genesis, chain, mempool, engine, propose, prevotes, self, proposerKey: proposer.publicKey };
}

test('a proposal relayed with its transactions swapped does not make the real block invalid', async () => {
  const t = setup();
  const honestTx = newSigner(t.genesis.chainId).register();
  const swappedTx = newSigner(t.genesis.chainId).register();
  const { hash, block, proposal } = t.propose([honestTx]);
  t.engine.start();
  try {
    // A relaying peer sends the proposer's signed proposal and header first, with other
    // transactions: the header's hash still matches the proposal, the body does not.
    t.engine.onConsensusMessage('byzantine-relay', wire({ type: 'proposal', proposal, block: { ...block, txs: [swappedTx] } }));
    t.engine.onConsensusMessage(t.proposerKey, wire({ type: 'proposal', proposal, block }));
    const vote = await waitFor(() => t.prevotes().find((v) => v.type === 'prevote'), 'our prevote', 10_000);
    assert.equal(vote.blockHash, hash, 'the validator prevotes the proposed block, not nil');
  } finally {
    t.engine.stop();
  }
});
