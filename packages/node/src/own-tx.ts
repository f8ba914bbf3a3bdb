// The node's own transactions (ports.ts SubmitOwnTx): one place signs them at the
// signer's next pending nonce and admits them like a client's, instead of each subsystem
// assembling an envelope by hand.
import type { SigningKeyPair } from '@medledger/crypto';
import { type SignedTx, signTx, txHash } from '@medledger/ledger';
import type { SubmitOwnTx } from './ports.js';

export interface OwnTxOptions {
  chainId: string;
  /**
   * The node's signing key: the default signer. A function is asked at each transaction (a
   * validator whose key was rotated by vote signs with its new key from then on).
   */
  nodeKey: SigningKeyPair | (() => SigningKeyPair);
}

export interface OwnTxDeps {
  /** The signer's next nonce, counting transactions already admitted to the mempool. */
  pendingNonce: (signer: string) => number;
  /** Admit and gossip a signed transaction; throws ApiError when it is refused. */
  admit: (tx: SignedTx) => unknown;
}

/** Build the SubmitOwnTx port from the chain id, the node key, nonce lookup and admission. */
export function ownTxSubmitter(opts: OwnTxOptions, deps: OwnTxDeps): SubmitOwnTx {
  const nodeKey = typeof opts.nodeKey === 'function' ? opts.nodeKey : () => opts.nodeKey as SigningKeyPair;
  return (kind, body, signer = nodeKey()) => {
    const tx = signTx(
      { v: 1, chain: opts.chainId, kind, signer: signer.publicKey, nonce: deps.pendingNonce(signer.publicKey), body },
      signer.privateKey,
    );
    deps.admit(tx);
    return { hash: txHash(tx), tx };
  };
}
