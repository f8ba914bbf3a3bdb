// CometBFT commits for the light client (docs/cometbft.md "Verifying a CometBFT chain"):
// a CometBFT header's commit checked against the validator set trusted at its height, as a
// CommitCheck. Browser-safe: @medledger/ledger/cometbft uses only browser-safe crypto.
import type { GenesisValidator } from '@medledger/ledger';
import {
  type CometCommitJson,
  type CometHeaderJson,
  cometValidatorAddress,
  cometValidatorOrder,
  verifyCometCommit,
} from '@medledger/ledger/cometbft';
import { type CommitCheck, fail } from './light-commit.js';

/**
 * Check that `commit` finalises the CometBFT `header` under `validators` (the set trusted at
 * its height: the header must name that set's hash, and more than 2/3 of its power must sign
 * CometBFT's canonical precommit bytes). Throws ClientError `WRONG_CHAIN` or `BAD_COMMIT`.
 */
export function cometCommitCheck(
  chainId: string,
  validators: readonly Pick<GenesisValidator, 'publicKey' | 'power'>[],
  header: CometHeaderJson,
  commit: CometCommitJson,
): CommitCheck {
  if (typeof header !== 'object' || header === null) fail('MALFORMED_RESPONSE', 'a CometBFT block needs its header');
  if (header.chain_id !== chainId) fail('WRONG_CHAIN', `header is for chain '${String(header.chain_id)}', not '${chainId}'`);
  if (typeof commit !== 'object' || commit === null || !Array.isArray(commit.signatures))
    fail('BAD_COMMIT', 'the block has no commit signatures');
  const set = validators.map((v) => ({ publicKey: v.publicKey, power: v.power }));
  try {
    verifyCometCommit(chainId, set, header, commit);
  } catch (err) {
    fail('BAD_COMMIT', (err as Error).message);
  }
  const byAddress = new Map(cometValidatorOrder(set).map((v) => [cometValidatorAddress(v.publicKey), v]));
  const signers = commit.signatures.flatMap((s) =>
    s.block_id_flag === 2 ? [byAddress.get(s.validator_address.toLowerCase())?.publicKey ?? ''] : [],
  );
  const totalPower = set.reduce((n, v) => n + v.power, 0);
  const signedPower = signers.reduce((n, k) => n + (set.find((v) => v.publicKey === k)?.power ?? 0), 0);
  return {
    blockHash: commit.block_id.hash.toLowerCase(),
    height: Number(header.height),
    signedPower,
    totalPower,
    quorumPower: Math.floor((2 * totalPower) / 3) + 1,
    signers,
  };
}
