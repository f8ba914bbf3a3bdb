// CometBFT commit verification against a block the real CometBFT v0.38.26 made in
// packages/node/src/abci/cometbft-network.test.ts (four validators; a record anchor at the
// vector's height), stored in cometbft-vectors.json, and every way of tampering with it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { sha256Hex } from '@medledger/crypto';
import {
  type CometCommitJson,
  type CometHeaderJson,
  cometHeaderHash,
  cometResultsHash,
  cometTxsHash,
  cometValidatorSetHash,
  parseCometTime,
  verifyCometCommit,
} from './cometbft.js';
import { LedgerError } from './errors.js';
import { parseSignedTx, txHash } from './tx.js';
import type { Genesis } from './types.js';

interface Vector {
  genesis: Genesis;
  height: number;
  signed: { header: CometHeaderJson; commit: CometCommitJson };
  txs: string[];
  results: Array<{ code: number; data: string; gasWanted: string; gasUsed: string }>;
  next: { header: CometHeaderJson; commit: CometCommitJson };
}

const vector = JSON.parse(readFileSync(new URL('./cometbft-vectors.json', import.meta.url), 'utf8')) as Vector;
const chainId = vector.genesis.chainId;
const validators = vector.genesis.validators.map((v) => ({ publicKey: v.publicKey, power: v.power }));
const copy = <T>(x: T): T => structuredClone(x);
const badCommit = (err: unknown) => err instanceof LedgerError && err.code === 'BAD_COMMIT';

test('a block made by CometBFT verifies from the genesis validators alone: header hash, set hash, signatures, txs and results', () => {
  const { header, commit } = vector.signed;
  assert.equal(cometHeaderHash(header), commit.block_id.hash.toLowerCase());
  assert.equal(cometValidatorSetHash(validators), header.validators_hash.toLowerCase());
  verifyCometCommit(chainId, validators, header, commit);
  verifyCometCommit(chainId, validators, vector.next.header, vector.next.commit);
  const txs = vector.txs.map((t) => new Uint8Array(Buffer.from(t, 'base64')));
  assert.equal(cometTxsHash(txs), header.data_hash.toLowerCase());
  const results = vector.results.map((r) => ({
    code: r.code,
    data: new Uint8Array(Buffer.from(r.data, 'base64')),
    gasWanted: BigInt(r.gasWanted),
    gasUsed: BigInt(r.gasUsed),
  }));
  // Results are committed one block later, in the next header.
  assert.equal(cometResultsHash(results), vector.next.header.last_results_hash.toLowerCase());
  assert.equal(vector.next.header.last_block_id.hash, commit.block_id.hash);
  // The transaction is MedLedger's canonical bytes: CometBFT's hash of it is MedLedger's tx hash.
  const tx = parseSignedTx(JSON.parse(Buffer.from(vector.txs[0] as string, 'base64').toString('utf8')));
  assert.equal(tx.kind, 'record.anchor');
  assert.equal(txHash(tx), sha256Hex(txs[0] as Uint8Array));
  assert.deepEqual(JSON.parse(Buffer.from(vector.results[0]?.data as string, 'base64').toString('utf8')), { code: 'ok', log: '' });
});

test('a forged signature, a rewritten app hash, another chain id or a shifted vote time is refused', () => {
  const { header, commit } = vector.signed;
  const forged = copy(commit);
  const sig = Buffer.from(forged.signatures[1]?.signature as string, 'base64');
  sig[0] = (sig[0] as number) ^ 1;
  (forged.signatures[1] as { signature: string }).signature = sig.toString('base64');
  assert.throws(() => verifyCometCommit(chainId, validators, header, forged), badCommit);

  const rewritten = copy(header);
  rewritten.app_hash = '00'.repeat(32);
  assert.throws(() => verifyCometCommit(chainId, validators, rewritten, commit), /another block/);

  const otherChain = copy(header);
  otherChain.chain_id = 'other-chain';
  assert.throws(() => verifyCometCommit('other-chain', validators, otherChain, commit), badCommit);

  const shifted = copy(commit);
  const t = shifted.signatures[2]?.timestamp as string;
  (shifted.signatures[2] as { timestamp: string }).timestamp = t.replace(/\d(?=Z$)/, (d) => String((Number(d) + 1) % 10));
  assert.throws(() => verifyCometCommit(chainId, validators, header, shifted), /does not verify/);
});

test('two of four signatures are not a commit, and another validator set is refused', () => {
  const { header, commit } = vector.signed;
  const half = copy(commit);
  for (const i of [0, 1]) Object.assign(half.signatures[i] as object, { block_id_flag: 1, signature: null });
  assert.throws(() => verifyCometCommit(chainId, validators, header, half), /not more than 2\/3/);
  const three = copy(commit);
  Object.assign(three.signatures[3] as object, { block_id_flag: 1, signature: null });
  verifyCometCommit(chainId, validators, header, three);
  assert.throws(() => verifyCometCommit(chainId, validators.slice(1), header, commit), /validator-set hash/);
  assert.throws(
    () =>
      verifyCometCommit(
        chainId,
        validators.map((v) => ({ ...v, power: 2 })),
        header,
        commit,
      ),
    /validator-set hash/,
  );
});

test('CometBFT times keep all nine fractional digits', () => {
  assert.deepEqual(parseCometTime('2026-12-06T16:03:10.690057725Z'), { seconds: 1796572990n, nanos: 690057725 });
  assert.deepEqual(parseCometTime('1970-01-01T00:00:01Z'), { seconds: 1n, nanos: 0 });
  assert.deepEqual(parseCometTime('1970-01-01T00:00:01.5Z'), { seconds: 1n, nanos: 500000000 });
  assert.throws(() => parseCometTime('2026-12-06 16:03:10Z'), LedgerError);
});
