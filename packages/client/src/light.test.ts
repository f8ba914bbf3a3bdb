// The light client against chains built here: commits with forged, duplicated, foreign or too
// few signatures, tampered headers and proofs, and a lying node in front of a real chain.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generateSigningKeyPair, type SigningKeyPair, sha256Hex, toHex } from '@medledger/crypto';
import {
  type Block,
  blockHash,
  type Commit,
  commitHash,
  type Genesis,
  type SignedTx,
  signTx,
  signVote,
  txHash,
  txInclusionProof,
  txRoot,
  ZERO_HASH,
} from '@medledger/ledger';
import { makeChain, signCommit } from '@medledger/ledger/testing';
import { ClientError } from './errors.js';
import {
  fetchVerifiedBlock,
  genesisSetOnly,
  headerHash,
  type ProofSource,
  proveRecord,
  proveTx,
  rootFromLeaves,
  signedTxHash,
  txLeafHash,
  verifyCommit,
  verifyTxInclusion,
} from './light.js';

const hasCode = (code: string) => (err: unknown) => err instanceof ClientError && err.code === code;

describe('verifyCommit', () => {
  const { genesis, validatorKeys, blocks } = makeChain({ validators: 4, blocks: 2 });
  const { block, commit } = blocks[1] as { block: Block; commit: Commit };
  const keys = validatorKeys as [SigningKeyPair, SigningKeyPair, SigningKeyPair, SigningKeyPair];
  const hash = blockHash(block.header);

  test('a commit signed by every validator verifies and reports the power', () => {
    const check = verifyCommit(genesis, block.header, commit);
    assert.equal(check.blockHash, hash);
    assert.deepEqual([check.signedPower, check.totalPower, check.quorumPower], [4, 4, 3]);
  });

  test('three of four equal validators are more than 2/3; two are not', () => {
    assert.equal(verifyCommit(genesis, block.header, signCommit(genesis.chainId, 2, hash, keys.slice(0, 3))).signedPower, 3);
    assert.throws(() => verifyCommit(genesis, block.header, signCommit(genesis.chainId, 2, hash, keys.slice(0, 2))), hasCode('BAD_COMMIT'));
    assert.throws(() => verifyCommit(genesis, block.header, { ...commit, signatures: [] }), hasCode('BAD_COMMIT'));
  });

  test('power, not the number of signers, decides', () => {
    const weighted: Genesis = {
      ...genesis,
      validators: genesis.validators.map((v, i) => ({ ...v, power: i === 0 ? 7 : 1 })),
    };
    // total 10, quorum 7: the heavy validator alone suffices, the three others together do not.
    assert.equal(verifyCommit(weighted, block.header, signCommit(genesis.chainId, 2, hash, [keys[0]])).signedPower, 7);
    assert.throws(() => verifyCommit(weighted, block.header, signCommit(genesis.chainId, 2, hash, keys.slice(1))), hasCode('BAD_COMMIT'));
  });

  test('a forged signature is refused even when the honest ones would suffice', () => {
    const sigs = commit.signatures.map((s, i) => (i === 3 ? { ...s, sig: s.sig.replace(/^./, s.sig[0] === 'a' ? 'b' : 'a') } : s));
    assert.throws(() => verifyCommit(genesis, block.header, { ...commit, signatures: sigs }), hasCode('BAD_COMMIT'));
  });

  test('a signature by a key outside genesis is refused', () => {
    const outsider = generateSigningKeyPair();
    const forged = signCommit(genesis.chainId, 2, hash, [keys[0], keys[1], outsider]);
    assert.throws(() => verifyCommit(genesis, block.header, forged), hasCode('BAD_COMMIT'));
  });

  test('one validator signing twice does not count twice', () => {
    const twice = signCommit(genesis.chainId, 2, hash, [keys[0], keys[1], keys[1]]);
    assert.throws(() => verifyCommit(genesis, block.header, twice), hasCode('BAD_COMMIT'));
  });

  test('prevotes, another round than signed, or another chain id are not precommits for this block', () => {
    const prevotes: Commit = {
      ...commit,
      signatures: keys.map((k) => ({
        validator: k.publicKey,
        sig: signVote(genesis.chainId, { type: 'prevote', height: 2, round: 0, blockHash: hash }, k.privateKey),
      })),
    };
    assert.throws(() => verifyCommit(genesis, block.header, prevotes), hasCode('BAD_COMMIT'));
    assert.throws(() => verifyCommit(genesis, block.header, { ...commit, round: 1 }), hasCode('BAD_COMMIT'));
    const otherChain = signCommit('other-chain', 2, hash, keys);
    assert.throws(() => verifyCommit(genesis, block.header, otherChain), hasCode('BAD_COMMIT'));
  });

  test('a tampered header no longer matches its commit; a header of another chain is WRONG_CHAIN', () => {
    const tampered = { ...block.header, appHash: 'ab'.repeat(32) };
    assert.throws(() => verifyCommit(genesis, tampered, commit), hasCode('BAD_COMMIT'));
    assert.throws(() => verifyCommit(genesis, { ...block.header, height: 3 }, commit), hasCode('BAD_COMMIT'));
    assert.throws(() => verifyCommit({ ...genesis, chainId: 'elsewhere' }, block.header, commit), hasCode('WRONG_CHAIN'));
    assert.throws(() => verifyCommit(genesis, { ...block.header, extra: 1 } as never, commit), hasCode('MALFORMED_RESPONSE'));
  });

  test('the header hash is the ledger block hash', () => {
    for (const b of blocks) assert.equal(headerHash(b.block.header), blockHash(b.block.header));
  });
});

describe('verifyTxInclusion', () => {
  const sender = generateSigningKeyPair();
  const txsOf = (n: number) =>
    Array.from({ length: n }, (_, i) =>
      signTx({ v: 1, chain: 'c', kind: 'test.noop', signer: sender.publicKey, nonce: i, body: { i, note: 'é' } }, sender.privateKey),
    );

  test('every leaf of trees of 1 to 17 transactions verifies against the ledger root', () => {
    for (let n = 1; n <= 17; n++) {
      const txs = txsOf(n);
      const root = txRoot(txs);
      txs.forEach((tx, i) => {
        assert.equal(signedTxHash(tx), txHash(tx));
        assert.ok(verifyTxInclusion(tx, { leafIndex: i, treeSize: n, path: txInclusionProof(txs, i) }, root), `n=${n} i=${i}`);
      });
    }
  });

  test('tampered proofs, indexes, sizes, roots and transactions are refused', () => {
    const txs = txsOf(11);
    const root = txRoot(txs);
    const i = 6;
    const tx = txs[i] as SignedTx;
    const path = txInclusionProof(txs, i);
    const ok = { leafIndex: i, treeSize: 11, path };
    assert.ok(verifyTxInclusion(tx, ok, root));
    const flipped = path.map((p, j) => (j === 1 ? (p[0] === '0' ? '1' : '0') + p.slice(1) : p));
    assert.equal(verifyTxInclusion(tx, { ...ok, path: flipped }, root), false);
    assert.equal(verifyTxInclusion(tx, { ...ok, path: path.slice(0, -1) }, root), false);
    assert.equal(verifyTxInclusion(tx, { ...ok, path: [...path, path[0] as string] }, root), false);
    assert.equal(verifyTxInclusion(tx, { ...ok, leafIndex: 7 }, root), false);
    assert.equal(verifyTxInclusion(tx, { ...ok, treeSize: 7 }, root), false);
    assert.equal(verifyTxInclusion(tx, { ...ok, leafIndex: 11 }, root), false);
    assert.equal(verifyTxInclusion(tx, ok, txRoot(txs.slice(0, 10))), false);
    assert.equal(verifyTxInclusion({ ...tx, body: { i, note: 'e' } }, ok, root), false);
    assert.equal(verifyTxInclusion(tx, { ...ok, path: ['zz'] }, root), false);
    // A root carried inside the proof is never trusted: only the header's counts.
    assert.equal(verifyTxInclusion(tx, { ...ok, root: txRoot(txs.slice(0, 10)) }, root), true);
  });
});

// A chain whose blocks hold record anchors, served by a node that can be made to lie.
function anchorChain() {
  const chainId = 'light-test';
  const validatorKeys = Array.from({ length: 4 }, () => generateSigningKeyPair());
  const genesis: Genesis = {
    chainId,
    genesisTime: 1_700_000_000_000,
    validators: validatorKeys.map((k, i) => ({ name: `v${i}`, publicKey: k.publicKey, encryptionKey: k.publicKey, power: 1 })),
    organizations: [],
    params: { maxBlockTxs: 100, maxBlockBytes: 1 << 20, maxClockDriftMs: 10_000 },
  };
  const patient = generateSigningKeyPair();
  const recordIds = Array.from({ length: 6 }, (_, i) => toHex(new Uint8Array(16).fill(i + 1)));
  const blocks: Array<{ hash: string; block: Block; commit: Commit }> = [];
  let prevHash = ZERO_HASH;
  let lastCommit: Commit | null = null;
  let nonce = 0;
  for (let h = 1; h <= 3; h++) {
    const txs = recordIds.slice((h - 1) * 2, h * 2).map((record) =>
      signTx(
        {
          v: 1,
          chain: chainId,
          kind: 'record.anchor',
          signer: patient.publicKey,
          nonce: nonce++,
          body: { record, patient: 'aa'.repeat(20), resourceType: 'Observation', category: 'lab', contentHash: 'cd'.repeat(32) },
        },
        patient.privateKey,
      ),
    );
    const header = {
      chainId,
      height: h,
      time: genesis.genesisTime + h,
      prevHash,
      txRoot: txRoot(txs),
      appHash: ZERO_HASH,
      proposer: (validatorKeys[0] as SigningKeyPair).publicKey,
      lastCommitHash: lastCommit === null ? ZERO_HASH : commitHash(lastCommit),
    };
    const hash = blockHash(header);
    const commit = signCommit(chainId, h, hash, validatorKeys);
    blocks.push({ hash, block: { header, lastCommit, txs }, commit });
    prevHash = hash;
    lastCommit = commit;
  }
  const served = structuredClone(blocks);
  const source: ProofSource & { calls: string[] } = {
    calls: [],
    async get(path) {
      this.calls.push(path);
      // The headers a light client walks to follow validator-set changes (GET /v1/headers).
      const page = /^\/v1\/headers\?from=(\d+)&limit=(\d+)$/.exec(path);
      if (page !== null) {
        const from = Number(page[1]);
        const slice = served.slice(from - 1, from - 1 + Number(page[2]));
        return structuredClone({ headers: slice.map((b) => ({ header: b.block.header, commit: b.commit })), next: null });
      }
      const m = /^\/v1\/(blocks|txs)\/(.+)$/.exec(path);
      if (m?.[1] === 'blocks') {
        const b = m[2] === 'latest' ? served[served.length - 1] : served[Number(m[2]) - 1];
        if (b === undefined) throw new ClientError('BLOCK_NOT_FOUND', 'no block', 404);
        return structuredClone({ ...b, results: [] });
      }
      // The node indexes what it serves; a transaction it rewrote keeps its old position.
      const want = m?.[2];
      for (const [h, b] of served.entries()) {
        let index = b.block.txs.findIndex((t) => txHash(t) === want);
        if (index < 0) index = (blocks[h] as { block: Block }).block.txs.findIndex((t) => txHash(t) === want);
        if (index >= 0)
          return {
            hash: want,
            status: 'committed',
            height: b.block.header.height,
            index,
            blockHash: b.hash,
            proof: {
              leafIndex: index,
              treeSize: b.block.txs.length,
              root: b.block.header.txRoot,
              path: txInclusionProof(b.block.txs, index),
            },
          };
      }
      throw new ClientError('TX_NOT_FOUND', 'unknown', 404);
    },
  };
  return { genesis, validatorKeys, blocks, served, source, recordIds };
}

test('rootFromLeaves is the ledger’s RFC 9162 tx root for every size from 0 to 17', () => {
  const { blocks } = makeChain({ blocks: 1, txsPerBlock: 17 });
  const txs = (blocks[0] as { block: Block }).block.txs;
  for (let n = 0; n <= txs.length; n++) assert.equal(rootFromLeaves(txs.slice(0, n).map(txLeafHash)), txRoot(txs.slice(0, n)), `n=${n}`);
});

describe('proveTx and proveRecord against a node', () => {
  test('an honest node: the anchor of a record is proven with its block, commit and position', async () => {
    const { genesis, blocks, source, recordIds } = anchorChain();
    const proof = await proveRecord(source, genesis, recordIds[2] as string);
    assert.equal(proof.height, 2);
    assert.equal(proof.index, 0);
    assert.equal(proof.blockHash, (blocks[1] as { hash: string }).hash);
    assert.equal(proof.anchor.record, recordIds[2]);
    assert.equal(proof.commit.signedPower, 4);
    const byHash = await proveTx(source, genesis, txHash((blocks[0] as { block: Block }).block.txs[1] as SignedTx));
    assert.equal(byHash.height, 1);
  });

  test('a height hint goes straight to the block; a wrong hint falls back to the search', async () => {
    const { genesis, source, recordIds } = anchorChain();
    await proveRecord(source, genesis, recordIds[0] as string, { heightHint: 1 });
    assert.deepEqual(source.calls.slice(0, 2), ['/v1/blocks/1', `/v1/txs/${source.calls[1]?.slice(8)}`]);
    const proof = await proveRecord(source, genesis, recordIds[5] as string, { heightHint: 1 });
    assert.equal(proof.height, 3);
  });

  test('an unknown record is RECORD_NOT_FOUND', async () => {
    const { genesis, source } = anchorChain();
    await assert.rejects(proveRecord(source, genesis, 'ee'.repeat(16)), hasCode('RECORD_NOT_FOUND'));
  });

  test('a node that serves a block with too few signatures is caught', async () => {
    const { genesis, served, source, recordIds, validatorKeys } = anchorChain();
    const b = served[1] as { hash: string; commit: Commit };
    b.commit = signCommit(genesis.chainId, 2, b.hash, validatorKeys.slice(0, 2));
    await assert.rejects(proveRecord(source, genesis, recordIds[3] as string), hasCode('BAD_COMMIT'));
  });

  test('a node that forges a commit with its own keys is caught', async () => {
    const { genesis, served, source, recordIds } = anchorChain();
    const b = served[0] as { hash: string; commit: Commit };
    b.commit = signCommit(
      genesis.chainId,
      1,
      b.hash,
      Array.from({ length: 4 }, () => generateSigningKeyPair()),
    );
    await assert.rejects(proveRecord(source, genesis, recordIds[0] as string), hasCode('BAD_COMMIT'));
  });

  test('a node that slips a transaction into a committed block is caught', async () => {
    const { genesis, served, source } = anchorChain();
    const intruder = generateSigningKeyPair();
    const fake = signTx(
      {
        v: 1,
        chain: genesis.chainId,
        kind: 'record.anchor',
        signer: intruder.publicKey,
        nonce: 0,
        body: {
          record: 'ff'.repeat(16),
          patient: 'aa'.repeat(20),
          resourceType: 'Observation',
          category: 'lab',
          contentHash: '00'.repeat(32),
        },
      },
      intruder.privateKey,
    );
    const b = served[2] as { block: Block };
    b.block.txs.push(fake); // the header and its commit stay the honest ones
    await assert.rejects(proveRecord(source, genesis, 'ff'.repeat(16)), hasCode('BAD_PROOF'));
  });

  test('a node that rewrites a committed transaction or its header is caught', async () => {
    const { genesis, blocks, served, source, recordIds } = anchorChain();
    const hash = txHash((blocks[0] as { block: Block }).block.txs[0] as SignedTx);
    const b = served[0] as { block: Block };
    (b.block.txs[0] as SignedTx).body = { ...((b.block.txs[0] as SignedTx).body as object), contentHash: '11'.repeat(32) };
    await assert.rejects(proveTx(source, genesis, hash), hasCode('BAD_PROOF'));
    b.block.header.txRoot = txRoot(b.block.txs);
    await assert.rejects(proveRecord(source, genesis, recordIds[0] as string), hasCode('BAD_COMMIT'));
  });

  // What an anonymous caller (or a patient, for others' transactions) gets: header, commits,
  // leaf hashes; `own` holds the transactions the caller is a party to.
  function withheld(source: ProofSource, own: (tx: SignedTx) => boolean = () => false): ProofSource {
    return {
      async get(path) {
        const answer = (await source.get(path)) as { hash: string; block: Block; commit: Commit };
        if (!path.startsWith('/v1/blocks/')) return answer;
        const { header, lastCommit, txs } = answer.block;
        return {
          hash: answer.hash,
          block: { header, lastCommit },
          commit: answer.commit,
          leaves: txs.map(txLeafHash),
          bodies: 'withheld',
          own: txs.flatMap((tx, index) => (own(tx) ? [{ index, tx }] : [])),
        };
      },
    };
  }

  test('without bodies, a transaction the caller holds is still proven from the leaves, header and commit', async () => {
    const { genesis, blocks, source } = anchorChain();
    const tx = (blocks[1] as { block: Block }).block.txs[1] as SignedTx;
    const proof = await proveTx(withheld(source), genesis, txHash(tx), { tx });
    assert.equal(proof.height, 2);
    assert.equal(proof.index, 1);
    await assert.rejects(proveTx(withheld(source), genesis, txHash(tx)), hasCode('BODIES_WITHHELD'));
    const other = (blocks[1] as { block: Block }).block.txs[0] as SignedTx;
    await assert.rejects(proveTx(withheld(source), genesis, txHash(tx), { tx: other }), hasCode('BAD_PROOF'));
  });

  test('without bodies, a record is found among the caller’s own transactions, or BODIES_WITHHELD says why not', async () => {
    const { genesis, source, recordIds } = anchorChain();
    await assert.rejects(proveRecord(withheld(source), genesis, recordIds[4] as string), hasCode('BODIES_WITHHELD'));
    const mine = withheld(source, (tx) => (tx.body as { record?: string }).record === recordIds[4]);
    const proof = await proveRecord(mine, genesis, recordIds[4] as string, { heightHint: 3 });
    assert.equal(proof.anchor.record, recordIds[4]);
  });

  test('a node whose leaves do not lead to the header, or that passes off another leaf as the caller’s, is caught', async () => {
    const { genesis, source, recordIds } = anchorChain();
    const forgedLeaves: ProofSource = {
      async get(path) {
        const answer = (await withheld(source).get(path)) as { leaves?: string[] };
        if (answer.leaves !== undefined) answer.leaves = answer.leaves.map(() => 'ab'.repeat(32));
        return answer;
      },
    };
    await assert.rejects(fetchVerifiedBlock(forgedLeaves, genesis, 1), hasCode('BAD_PROOF'));
    const misplaced: ProofSource = {
      async get(path) {
        const answer = (await withheld(source, (tx) => (tx.body as { record?: string }).record === recordIds[0]).get(path)) as {
          own?: Array<{ index: number }>;
        };
        for (const o of answer.own ?? []) o.index = 1;
        return answer;
      },
    };
    await assert.rejects(proveRecord(misplaced, genesis, recordIds[0] as string, { heightHint: 1 }), hasCode('BAD_PROOF'));
  });

  test('a pending transaction is TX_NOT_COMMITTED', async () => {
    const { genesis } = anchorChain();
    const pending: ProofSource = { get: async () => ({ hash: 'ab'.repeat(32), status: 'pending' }) };
    await assert.rejects(proveTx(pending, genesis, 'ab'.repeat(32)), hasCode('TX_NOT_COMMITTED'));
  });
});

test('the whole SDK is browser-safe: no Node built-in or Node-only entry anywhere in its module graph', () => {
  const SRC = new URL('../src/', import.meta.url);
  // @medledger/ledger/state-proof and /cometbft are the browser-safe ledger entries (ledger's
  // state-proof-safety.test.ts and cometbft-safety.test.ts walk them).
  // The GS1 scan parsers (gs1.ts) are plain JavaScript with no Node built-in in their module
  // graphs (digital-link.js with apg-lib and its check-digit helper), and the web app bundles them.
  // '@medledger/crypto' is allowed because bundlers take its `browser` export, the browser
  // entry (crypto's browser-safety.test.ts walks it), while Node gets node:crypto's speed; the
  // next test checks that entry offers every name the SDK imports from it.
  const allowed = new Set([
    '@medledger/crypto',
    '@medledger/crypto/browser',
    'canonicalize',
    '@medledger/ledger/state-proof',
    // CometBFT's header and commit checks (ledger's cometbft-safety.test.ts walks it).
    '@medledger/ledger/cometbft',
    // The GS1 CBV 2.0 event hash (ledger's cometbft-safety.test.ts walks it too).
    '@medledger/ledger/epcis-hash',
    'digital-link.js',
    'gs1-barcode-parser-mod',
  ]);
  const seen = new Set<string>();
  const pending = ['./index.ts'];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(fileURLToPath(new URL(file, SRC)), 'utf8');
    assert.ok(!/\bBuffer\b/.test(source.replace(/\/\/.*$/gm, '')), `${file} uses Buffer`);
    for (const m of source.matchAll(/^(?:import|export)\s+(type\s+)?[^'"]*?from\s*'([^']+)'/gm)) {
      const from = m[2] as string;
      if (from.startsWith('./')) pending.push(from.replace(/\.js$/, '.ts'));
      else if (m[1] === undefined) assert.ok(allowed.has(from), `${file} imports ${from}`);
    }
  }
  assert.ok(
    seen.has('./light.ts') && seen.has('./record-crypto.ts') && seen.has('./connection.ts') && seen.has('./verified-reader.ts'),
    'the walk reaches the modules',
  );
});

test("the SDK's '@medledger/crypto' imports resolve to the browser entry in bundlers, which has every name it imports", async () => {
  const cryptoPackage = JSON.parse(readFileSync(fileURLToPath(new URL('../../crypto/package.json', import.meta.url)), 'utf8')) as {
    exports: Record<string, Record<string, string>>;
  };
  const root = cryptoPackage.exports['.'] as Record<string, string>;
  assert.equal(root.browser, './dist/browser.js', 'the package root has a browser condition naming the browser entry');
  assert.ok(Object.keys(root).indexOf('browser') < Object.keys(root).indexOf('default'), 'the browser condition comes before default');
  const browserEntry = (await import('@medledger/crypto/browser')) as Record<string, unknown>;
  const names = new Set<string>();
  for (const file of readdirSync(fileURLToPath(new URL('../src/', import.meta.url))).filter(
    (f) => f.endsWith('.ts') && !f.endsWith('.test.ts'),
  )) {
    const source = readFileSync(fileURLToPath(new URL(`../src/${file}`, import.meta.url)), 'utf8');
    for (const m of source.matchAll(/^import\s+\{([^}]*)\}\s+from\s+'@medledger\/crypto'/gm))
      for (const part of (m[1] as string).split(',')) {
        const name = part.trim();
        if (name !== '' && !name.startsWith('type ')) names.add(name);
      }
  }
  assert.ok(names.size > 10, `the SDK imports crypto functions (${names.size})`);
  for (const name of names) assert.ok(name in browserEntry, `the browser entry exports ${name}`);
});

// A block the real CometBFT made (packages/ledger/src/cometbft-vectors.json), served as a node
// on CometBFT serves it (docs/cometbft.md "Blocks"): the light client proves its transaction
// from CometBFT's header and commit, and refuses each forgery.
describe('CometBFT blocks (stored vector)', () => {
  const vec = JSON.parse(readFileSync(fileURLToPath(new URL('../../ledger/src/cometbft-vectors.json', import.meta.url)), 'utf8')) as {
    genesis: { chainId: string; validators: Array<{ name: string; publicKey: string; power: number; encryptionKey: string }> };
    height: number;
    signed: { header: { data_hash: string; chain_id: string }; commit: { block_id: { hash: string }; signatures: unknown[] } };
    txs: string[];
  };
  const txs = vec.txs.map((b64) => JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as SignedTx);
  // The vector's chain was made by CometBFT, so its genesis names that engine. A stored block
  // comes with no header source to walk, so it is checked under the genesis set alone.
  const genesis = genesisSetOnly({ chainId: vec.genesis.chainId, engine: 'cometbft', validators: vec.genesis.validators });
  type Answer = { block: { header: { data_hash: string } }; leaves: string[]; commit: { signatures: unknown[] } };
  const source = (edit: (block: Answer) => void = () => {}): ProofSource => ({
    get: async (path) => {
      if (path.startsWith('/v1/txs/')) return { hash: signedTxHash(txs[0] as SignedTx), status: 'committed', height: vec.height, index: 0 };
      const answer = structuredClone({
        engine: 'cometbft',
        hash: vec.signed.commit.block_id.hash.toLowerCase(),
        block: { header: vec.signed.header, txs },
        commit: vec.signed.commit,
        leaves: vec.txs.map((b64) => sha256Hex(Buffer.from(b64, 'base64'))),
        bodies: 'full',
      });
      edit(answer);
      return answer;
    },
  });

  test('proveTx proves the transaction from the signed header, its data hash and the genesis validators', async () => {
    const proof = await proveTx(source(), genesis, signedTxHash(txs[0] as SignedTx));
    assert.equal(proof.height, vec.height);
    assert.equal(proof.blockHash, vec.signed.commit.block_id.hash.toLowerCase());
    assert.equal(proof.commit.signedPower > (2 * proof.commit.totalPower) / 3, true);
    assert.equal(proof.proof.root, vec.signed.header.data_hash.toLowerCase());
  });

  test('a rewritten data hash, a swapped leaf, a cut commit or another network are refused', async () => {
    const hash = signedTxHash(txs[0] as SignedTx);
    await assert.rejects(
      proveTx(
        source((b) => (b.block.header.data_hash = 'AB'.repeat(32))),
        genesis,
        hash,
      ),
      hasCode('BAD_PROOF'),
    );
    await assert.rejects(
      proveTx(
        source((b) => (b.leaves[0] = 'cd'.repeat(32))),
        genesis,
        hash,
      ),
      hasCode('BAD_PROOF'),
    );
    await assert.rejects(
      proveTx(
        source((b) => (b.commit.signatures = b.commit.signatures.slice(0, 2))),
        genesis,
        hash,
      ),
      hasCode('BAD_COMMIT'),
    );
    await assert.rejects(proveTx(source(), genesisSetOnly({ ...genesis.genesis, chainId: 'another' }), hash), hasCode('WRONG_CHAIN'));
  });

  // The attack the engine in genesis stops: a chain made by the embedded engine whose genesis
  // validators were since replaced by vote (or whose key was compromised). A lying node answers
  // with a CometBFT-shaped block signed by those genesis keys; judged by the answer's shape,
  // it would be checked under the genesis set and believed.
  test('a CometBFT-shaped block signed by genesis keys is refused for a chain whose genesis names the embedded engine', async () => {
    const embedded = { chainId: vec.genesis.chainId, validators: vec.genesis.validators };
    const hash = signedTxHash(txs[0] as SignedTx);
    await assert.rejects(proveTx(source(), embedded, hash), hasCode('ENGINE_MISMATCH'));
    await assert.rejects(proveTx(source(), { ...embedded, engine: 'embedded' }, hash), hasCode('ENGINE_MISMATCH'));
    await assert.rejects(fetchVerifiedBlock(source(), embedded, vec.height), hasCode('ENGINE_MISMATCH'));
    await assert.rejects(proveRecord(source(), embedded, 'ab'.repeat(16), { heightHint: vec.height }), hasCode('ENGINE_MISMATCH'));
  });

  test('a MedLedger-shaped block is refused for a chain whose genesis names CometBFT', async () => {
    const chain = makeChain({ blocks: 1, txsPerBlock: 1 });
    const embeddedAnswer: ProofSource = {
      get: async () => {
        const b = chain.blocks[0] as { block: Block; commit: unknown };
        return { hash: headerHash(b.block.header), block: b.block, commit: b.commit };
      },
    };
    const comet = { chainId: chain.genesis.chainId, engine: 'cometbft' as const, validators: chain.genesis.validators };
    await assert.rejects(fetchVerifiedBlock(embeddedAnswer, comet, 1), hasCode('ENGINE_MISMATCH'));
  });
});
