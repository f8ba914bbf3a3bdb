// ABCI 2.0 Requests to AbciAppPort calls and back (CometBFT v0.38, docs/cometbft.md).
// Results travel in ExecTxResult.data, the only deterministic field besides the code that
// LastResultsHash covers, so a header commits to each transaction's MedLedger result.
import type { Timestamp } from 'cosmjs-types/google/protobuf/timestamp';
import {
  CheckTxType,
  MisbehaviorType,
  type Request,
  Response,
  ResponseApplySnapshotChunk_Result,
  ResponseOfferSnapshot_Result,
  ResponseProcessProposal_ProposalStatus,
  ResponseVerifyVoteExtension_VerifyStatus,
} from 'cosmjs-types/tendermint/abci/types';
import type { AbciAppPort, AbciBlock, AbciTxOutcome } from './app-port.js';
import type { AbciHandler } from './server.js';

/** ABCI code of every refused transaction; MedLedger's stable code is in `data` and `codespace`. */
export const ABCI_REFUSED = 1;
/** Codespace naming where the refusal's code is defined. */
export const ABCI_CODESPACE = 'medledger';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Block time in integer ms: CometBFT's nanosecond time truncated, the same on every validator. */
export function timestampMs(t: Timestamp | undefined): number {
  if (t === undefined) throw new Error('block time is missing');
  return Number(t.seconds) * 1000 + Math.floor(t.nanos / 1_000_000);
}

/** The bytes `data` carries for a result: canonical JSON `{"code":…,"log":…}`. */
export function resultData(outcome: AbciTxOutcome): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ code: outcome.code, log: outcome.log }));
}

function execResult(outcome: AbciTxOutcome) {
  const ok = outcome.code === 'ok';
  return {
    code: ok ? 0 : ABCI_REFUSED,
    data: resultData(outcome),
    log: outcome.log,
    codespace: ok ? '' : ABCI_CODESPACE,
  };
}

function block(req: {
  height: bigint;
  time?: Timestamp;
  txs: Uint8Array[];
  hash: Uint8Array;
  misbehavior?: Array<{ type: MisbehaviorType; validator?: { address: Uint8Array }; height: bigint }>;
}): AbciBlock {
  // The evidence CometBFT proved and put in the block: who (by address) and at which height.
  const misbehavior = (req.misbehavior ?? []).flatMap((m) =>
    m.validator === undefined || (m.type !== MisbehaviorType.DUPLICATE_VOTE && m.type !== MisbehaviorType.LIGHT_CLIENT_ATTACK)
      ? []
      : [
          {
            kind: m.type === MisbehaviorType.DUPLICATE_VOTE ? ('duplicate-vote' as const) : ('light-client-attack' as const),
            address: hex(m.validator.address),
            height: Number(m.height),
          },
        ],
  );
  return {
    height: Number(req.height),
    time: timestampMs(req.time),
    txs: req.txs,
    hash: hex(req.hash),
    ...(misbehavior.length > 0 ? { misbehavior } : {}),
  };
}

/** The handler an AbciServer runs for `app`. */
export function abciHandler(app: AbciAppPort): AbciHandler {
  return (req: Request): Response => {
    if (req.info !== undefined) {
      const { height, appHash } = app.info();
      return Response.fromPartial({
        info: { data: 'medledger', version: '1', appVersion: 1n, lastBlockHeight: BigInt(height), lastBlockAppHash: appHash },
      });
    }
    if (req.initChain !== undefined) {
      const r = req.initChain;
      const validators = r.validators.map((v) => {
        if (v.pubKey?.ed25519 === undefined) throw new Error('genesis validator key is not Ed25519');
        return { publicKey: hex(v.pubKey.ed25519), power: Number(v.power) };
      });
      const { appHash } = app.initChain({
        chainId: r.chainId,
        appState: r.appStateBytes,
        initialHeight: Number(r.initialHeight),
        validators,
      });
      return Response.fromPartial({ initChain: { appHash } });
    }
    if (req.checkTx !== undefined) {
      // The mempool and query connections answer anyone's input: a failure there is a
      // refusal, never an exception (CometBFT stops on an exception from any connection).
      let outcome: AbciTxOutcome;
      try {
        outcome = app.checkTx(req.checkTx.tx, req.checkTx.type === CheckTxType.RECHECK);
      } catch (err) {
        outcome = { code: 'INTERNAL', log: (err as Error).message.slice(0, 200) };
      }
      return Response.fromPartial({ checkTx: execResult(outcome) });
    }
    if (req.prepareProposal !== undefined) {
      const r = req.prepareProposal;
      const txs = app.prepareProposal({ height: Number(r.height), txs: r.txs, maxTxBytes: Number(r.maxTxBytes) });
      return Response.fromPartial({ prepareProposal: { txs } });
    }
    if (req.processProposal !== undefined) {
      const accept = app.processProposal(block(req.processProposal));
      const status = accept ? ResponseProcessProposal_ProposalStatus.ACCEPT : ResponseProcessProposal_ProposalStatus.REJECT;
      return Response.fromPartial({ processProposal: { status } });
    }
    if (req.finalizeBlock !== undefined) {
      const { results, appHash, validatorUpdates = [] } = app.finalizeBlock(block(req.finalizeBlock));
      return Response.fromPartial({
        finalizeBlock: {
          txResults: results.map(execResult),
          appHash,
          validatorUpdates: validatorUpdates.map((u) => ({
            pubKey: { ed25519: new Uint8Array(Buffer.from(u.publicKey, 'hex')) },
            power: BigInt(u.power),
          })),
        },
      });
    }
    if (req.commit !== undefined) {
      const { retainHeight } = app.commit();
      return Response.fromPartial({ commit: { retainHeight: BigInt(retainHeight) } });
    }
    if (req.query !== undefined) {
      let a: ReturnType<AbciAppPort['query']>;
      try {
        a = app.query({ path: req.query.path, data: req.query.data });
      } catch (err) {
        a = { code: 1, value: new Uint8Array(0), log: (err as Error).message.slice(0, 200), height: 0 };
      }
      return Response.fromPartial({
        query: { code: a.code, value: a.value, log: a.log, height: BigInt(a.height), codespace: a.code === 0 ? '' : ABCI_CODESPACE },
      });
    }
    // Vote extensions are off (consensus params) and state sync is not offered yet.
    if (req.extendVote !== undefined) return Response.fromPartial({ extendVote: { voteExtension: new Uint8Array(0) } });
    if (req.verifyVoteExtension !== undefined)
      return Response.fromPartial({ verifyVoteExtension: { status: ResponseVerifyVoteExtension_VerifyStatus.ACCEPT } });
    if (req.listSnapshots !== undefined) return Response.fromPartial({ listSnapshots: { snapshots: [] } });
    if (req.offerSnapshot !== undefined) return Response.fromPartial({ offerSnapshot: { result: ResponseOfferSnapshot_Result.REJECT } });
    if (req.loadSnapshotChunk !== undefined) return Response.fromPartial({ loadSnapshotChunk: { chunk: new Uint8Array(0) } });
    if (req.applySnapshotChunk !== undefined)
      return Response.fromPartial({ applySnapshotChunk: { result: ResponseApplySnapshotChunk_Result.ABORT } });
    throw new Error('unknown ABCI request');
  };
}
