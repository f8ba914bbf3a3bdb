// Shared by the one-process stage drivers (block-cost.mjs, supply-cost.mjs): timing a stage,
// and the commit four validators would sign for a block, so a chain can store it.
import { blockHash, signVote } from '@medledger/ledger';

/** Wall time of `fn` (ms) and its value. */
export const time = (fn) => {
  const t0 = performance.now();
  const value = fn();
  return [performance.now() - t0, value];
};

/** Wall and CPU (user + system) ms of `fn`: CPU is steadier when other work shares the cores. */
export const timeCpu = (fn) => {
  const c0 = process.cpuUsage();
  const [ms] = time(fn);
  const c = process.cpuUsage(c0);
  return [ms, (c.user + c.system) / 1000];
};

/** A round-0 commit of `block`, precommitted by every one of `keys` ({publicKey, privateKey}). */
export function precommitFor(chainId, keys, block) {
  const { height } = block.header;
  const hash = blockHash(block.header);
  return {
    height,
    round: 0,
    blockHash: hash,
    signatures: keys.map((key) => ({
      validator: key.publicKey,
      sig: signVote(chainId, { type: 'precommit', height, round: 0, blockHash: hash }, key.privateKey),
    })),
  };
}
