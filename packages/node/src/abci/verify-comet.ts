// `medledger verify` of a chain whose genesis names CometBFT (docs/cometbft.md): re-verify
// the chain CometBFT made, trusting only the MedLedger genesis. Every block's commit is
// checked against the validator set the replay says is in effect at its height (genesis's,
// then each set governance decided, from two blocks later), the blocks link, each data hash covers the block's canonical transactions,
// and the MedLedger application is replayed from genesis so that every result matches the
// one committed in the next header's last-results hash and every app hash the next header's.
import {
  EhrApp,
  emergencyParams,
  initChain,
  MemoryCommittedState,
  VALSET_DELAY,
  type ValidatorSetChange,
  validatorSetAt,
  validatorSetDecidedIn,
} from '@medledger/ehr';
import { type ChainVerification, type Genesis, genesisEngine, type SignedTx, type TxResult } from '@medledger/ledger';
import {
  type CometCommitJson,
  type CometHeaderJson,
  cometResultsHash,
  cometTxsHash,
  cometValidatorAddress,
  cometValidatorSetHash,
  parseCometTime,
  verifyCometCommit,
} from '@medledger/ledger/cometbft';
import type { AbciTxOutcome } from './app-port.js';
import { decodeTx } from './ehr-app.js';
import { ABCI_REFUSED, resultData } from './handler.js';
import type { CometRpc } from './rpc.js';

/** Where the blocks come from: CometBFT's RPC, or anything that answers the same. */
export interface CometBlockSource {
  /** Latest height with a commit. */
  tip(): Promise<number>;
  signedHeader(height: number): Promise<{ header: CometHeaderJson; commit: CometCommitJson }>;
  txs(height: number): Promise<Uint8Array[]>;
  /**
   * The duplicate-vote evidence in block `height`: offender's address (hex) and the offence's
   * height, as CometBFT hands them to the application. Unchecked here: the replay's app hash,
   * which the next signed header carries, commits to what the application recorded.
   */
  misbehavior?(height: number): Promise<Array<{ address: string; height: number }>>;
  results(height: number): Promise<Array<{ code: number; data: Uint8Array; gasWanted: bigint; gasUsed: bigint }>>;
}

/** A CometBlockSource over CometBFT's RPC (`status`, `commit`, `block`, `block_results`). */
export function rpcBlockSource(rpc: CometRpc): CometBlockSource {
  return {
    tip: async () => (await rpc.status()).height,
    signedHeader: async (h) =>
      ((await rpc.raw('commit', { height: String(h) })) as { signed_header: { header: CometHeaderJson; commit: CometCommitJson } })
        .signed_header,
    txs: async (h) => {
      const b = (await rpc.raw('block', { height: String(h) })) as { block: { data: { txs: string[] | null } } };
      return (b.block.data.txs ?? []).map((t) => new Uint8Array(Buffer.from(t, 'base64')));
    },
    misbehavior: async (h) => {
      const b = (await rpc.raw('block', { height: String(h) })) as {
        block: {
          evidence?: { evidence?: Array<{ type?: string; value?: { vote_a?: { validator_address?: string; height?: string } } }> | null };
        };
      };
      return (b.block.evidence?.evidence ?? []).flatMap((e) =>
        e.type === 'tendermint/DuplicateVoteEvidence' && e.value?.vote_a?.validator_address !== undefined
          ? [{ address: e.value.vote_a.validator_address.toLowerCase(), height: Number(e.value.vote_a.height) }]
          : [],
      );
    },
    results: async (h) => {
      const r = (await rpc.raw('block_results', { height: String(h) })) as {
        txs_results: Array<{ code?: number; data?: string | null; gas_wanted?: string; gas_used?: string }> | null;
      };
      return (r.txs_results ?? []).map((x) => ({
        code: x.code ?? 0,
        data: new Uint8Array(Buffer.from(x.data ?? '', 'base64')),
        gasWanted: BigInt(x.gas_wanted ?? '0'),
        gasUsed: BigInt(x.gas_used ?? '0'),
      }));
    },
  };
}

class Refusal extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const isOutcome = (x: SignedTx | AbciTxOutcome): x is AbciTxOutcome => !('sig' in x);
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

/**
 * Verify blocks 1 … tip−1 in full (their app hashes and results are committed by the next
 * header) and the commit of the tip. Each header must name, as its validator set and next
 * set, the ones the replay has in effect at its height and the next (the application passes
 * every decided set to CometBFT as validator updates, effective two blocks later), and its
 * commit must carry more than 2/3 of that set's power: a set that was replaced cannot sign
 * later blocks. Never throws for a bad chain: the first failure is returned with its height
 * and a stable code.
 */
export async function verifyCometChain(genesis: Genesis, source: CometBlockSource): Promise<ChainVerification> {
  // The engine is fixed by genesis: an embedded chain is never checked as CometBFT's.
  if (genesisEngine(genesis) !== 'cometbft')
    return {
      ok: false,
      height: 1,
      code: 'ENGINE_MISMATCH',
      reason: `the genesis names the ${genesisEngine(genesis)} engine, not CometBFT`,
    };
  const genesisExec = initChain(genesis);
  const state = new MemoryCommittedState();
  state.apply(genesisExec);
  const app = new EhrApp(genesis.chainId, state, emergencyParams(genesis));
  // The sets decided so far, ascending by effective height: what the replay says signs each height.
  const history: ValidatorSetChange[] = [];
  const setAt = (h: number) => validatorSetAt(state, h, history).map((v) => ({ publicKey: v.publicKey, power: v.power }));
  let expectedAppHash = genesisExec.appHash;
  let prevBlockId = '';
  let prevResults: AbciTxOutcome[] = [];
  let txCount = 0;
  const tip = await source.tip();
  let height = 1;
  try {
    if (tip < 2) throw new Refusal('TOO_SHORT', 'the chain has no block whose app hash is committed yet (needs height 2)');
    for (; height <= tip; height++) {
      const { header, commit } = await source.signedHeader(height);
      if (Number(header.height) !== height) throw new Refusal('WRONG_HEIGHT', `the source answered height ${header.height}`);
      try {
        verifyCometCommit(genesis.chainId, setAt(height), header, commit);
      } catch (err) {
        throw new Refusal('BAD_COMMIT', (err as Error).message);
      }
      if (header.next_validators_hash.toLowerCase() !== cometValidatorSetHash(setAt(height + 1)))
        throw new Refusal(
          'BAD_COMMIT',
          `the next validator set of block ${height} is not the one the replay has in effect at ${height + 1}`,
        );
      if (header.last_block_id.hash !== prevBlockId) throw new Refusal('BAD_LINK', 'the header does not link to the previous block');
      if (header.app_hash.toLowerCase() !== expectedAppHash)
        throw new Refusal('APP_HASH_MISMATCH', `the app hash after block ${height - 1} differs from the replay`);
      const committedResults = prevResults.map((o) => ({ code: o.code === 'ok' ? 0 : ABCI_REFUSED, data: resultData(o) }));
      if (header.last_results_hash.toLowerCase() !== cometResultsHash(committedResults))
        throw new Refusal('RESULTS_MISMATCH', `the results of block ${height - 1} differ from the replay`);
      prevBlockId = commit.block_id.hash;
      if (height === tip) break; // its app hash and results are only committed by the next header
      const txs = await source.txs(height);
      if (cometTxsHash(txs) !== header.data_hash.toLowerCase())
        throw new Refusal('BAD_TX_ROOT', 'the transactions do not match the data hash');
      const decoded = txs.map(decodeTx);
      const parsed = decoded.filter((d): d is SignedTx => !isOutcome(d));
      const t = parseCometTime(header.time);
      const misbehavior = (await source.misbehavior?.(height)) ?? [];
      // Offenders are mapped among every key that has been a validator, as the application does (ehr-app.ts).
      const everKeys = [...new Set([...genesis.validators, ...history.flatMap((c) => c.validators)].map((v) => v.publicKey))];
      const evidence = misbehavior.flatMap((m) => {
        const key = everKeys.find((k) => cometValidatorAddress(k) === m.address);
        return key === undefined ? [] : [{ kind: 'duplicate-vote' as const, validator: key, height: m.height }];
      });
      const exec = app.finalizeBlock({
        height,
        time: Number(t.seconds) * 1000 + Math.floor(t.nanos / 1_000_000),
        txs: parsed,
        ...(evidence.length > 0 ? { misbehavior: evidence } : {}),
      });
      let k = 0;
      prevResults = decoded.map((d) => (isOutcome(d) ? d : (exec.results[k++] as TxResult)));
      // What the node served as results must be what the replay gives (the next header commits to them too).
      const served = await source.results(height);
      if (served.length !== prevResults.length || served.some((r, i) => !sameBytes(r.data, resultData(prevResults[i] as AbciTxOutcome))))
        throw new Refusal('RESULTS_MISMATCH', `the served results of block ${height} differ from the replay`);
      state.apply(exec);
      app.commit();
      const decided = validatorSetDecidedIn(exec.writes, height);
      if (decided !== undefined)
        history.push({ effectiveHeight: height + VALSET_DELAY, decidedAt: height, proposal: 0, validators: decided });
      expectedAppHash = exec.appHash;
      txCount += txs.length;
    }
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, height, code: err.code, reason: err.message };
    return { ok: false, height, code: 'UNREADABLE', reason: (err as Error).message };
  }
  return { ok: true, blocks: tip - 1, txs: txCount, lastBlockHash: prevBlockId.toLowerCase() };
}
