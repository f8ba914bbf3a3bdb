// Consensus messages between validators: signed proposals and votes, checked where they
// enter from the network (DESIGN §6).
import { isHex, signEd25519, verifyEd25519 } from '@medledger/crypto';
import { proposalSignBytes, voteSignBytes } from '@medledger/ledger';

/** A proposer's signed claim that `blockHash` is its proposal for (height, round). */
export interface SignedProposal {
  height: number;
  round: number;
  blockHash: string;
  /** The paper's validRound: -1, or the round of the polka the proposer re-proposes. */
  validRound: number;
  proposer: string;
  sig: string;
}

/** A validator's signed prevote or precommit; `blockHash: null` is a vote for nil. */
export interface SignedVote {
  type: 'prevote' | 'precommit';
  height: number;
  round: number;
  blockHash: string | null;
  validator: string;
  sig: string;
}

const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** Parse and verify a peer's proposal; undefined when malformed or the signature is bad. */
export function parseProposal(chainId: string, x: unknown): SignedProposal | undefined {
  const p = x as SignedProposal;
  if (typeof p !== 'object' || p === null) return undefined;
  if (!isCount(p.height) || p.height < 1 || !isCount(p.round)) return undefined;
  if (p.validRound !== -1 && !(isCount(p.validRound) && p.validRound < p.round)) return undefined;
  if (!isHex(p.blockHash, 32) || !isHex(p.proposer, 32) || !isHex(p.sig, 64)) return undefined;
  const bytes = proposalSignBytes(chainId, { height: p.height, round: p.round, blockHash: p.blockHash, validRound: p.validRound });
  if (!verifyEd25519(p.proposer, bytes, p.sig)) return undefined;
  return { height: p.height, round: p.round, blockHash: p.blockHash, validRound: p.validRound, proposer: p.proposer, sig: p.sig };
}

/** Parse and verify a peer's vote; undefined when malformed or the signature is bad. */
export function parseVote(chainId: string, x: unknown): SignedVote | undefined {
  const v = x as SignedVote;
  if (typeof v !== 'object' || v === null) return undefined;
  if (v.type !== 'prevote' && v.type !== 'precommit') return undefined;
  if (!isCount(v.height) || v.height < 1 || !isCount(v.round)) return undefined;
  if (v.blockHash !== null && !isHex(v.blockHash, 32)) return undefined;
  if (!isHex(v.validator, 32) || !isHex(v.sig, 64)) return undefined;
  const bytes = voteSignBytes(chainId, { type: v.type, height: v.height, round: v.round, blockHash: v.blockHash });
  if (!verifyEd25519(v.validator, bytes, v.sig)) return undefined;
  return { type: v.type, height: v.height, round: v.round, blockHash: v.blockHash, validator: v.validator, sig: v.sig };
}

export function signProposal(chainId: string, p: Omit<SignedProposal, 'sig'>, privateKey: string): SignedProposal {
  const bytes = proposalSignBytes(chainId, { height: p.height, round: p.round, blockHash: p.blockHash, validRound: p.validRound });
  return { ...p, sig: signEd25519(privateKey, bytes) };
}

export function signVoteMessage(chainId: string, v: Omit<SignedVote, 'sig'>, privateKey: string): SignedVote {
  const bytes = voteSignBytes(chainId, { type: v.type, height: v.height, round: v.round, blockHash: v.blockHash });
  return { ...v, sig: signEd25519(privateKey, bytes) };
}

/** The body of an `evidence.equivocation` transaction built from two conflicting signed messages. */
export function evidenceBody(
  kind: 'duplicate-vote' | 'duplicate-proposal',
  first: SignedVote | SignedProposal,
  second: SignedVote | SignedProposal,
): Record<string, unknown> {
  if (kind === 'duplicate-proposal') {
    const a = first as SignedProposal;
    const b = second as SignedProposal;
    return {
      validator: a.proposer,
      height: a.height,
      round: a.round,
      step: 'proposal',
      first: { blockHash: a.blockHash, validRound: a.validRound, sig: a.sig },
      second: { blockHash: b.blockHash, validRound: b.validRound, sig: b.sig },
    };
  }
  const a = first as SignedVote;
  const b = second as SignedVote;
  return {
    validator: a.validator,
    height: a.height,
    round: a.round,
    step: a.type,
    first: { blockHash: a.blockHash, sig: a.sig },
    second: { blockHash: b.blockHash, sig: b.sig },
  };
}
