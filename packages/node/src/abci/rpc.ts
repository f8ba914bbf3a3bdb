// The few CometBFT RPC calls MedLedger makes (JSON-RPC over HTTP, CometBFT v0.38): submit
// a transaction and read the tip. Transactions go as their exact canonical bytes.

/** A CometBFT RPC failure: the call, and CometBFT's own message. */
export class CometRpcError extends Error {
  readonly code = 'COMETBFT_RPC';
  constructor(message: string) {
    super(message);
    this.name = 'CometRpcError';
  }
}

/** CometBFT's answer to broadcast_tx_sync: the CheckTx result and the tx hash (upper-case hex). */
export interface BroadcastResult {
  code: number;
  data: Uint8Array;
  log: string;
  codespace: string;
  hash: string;
}

export class CometRpc {
  private nextId = 1;
  constructor(private readonly url: string) {}

  private async call(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    let res: Response;
    try {
      res = await this.post(method, params);
    } catch (err) {
      // fetch's own message is only "fetch failed"; the socket's reason is in its cause.
      const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
      const why = [cause?.code, cause?.message].filter(Boolean).join(' ');
      throw new CometRpcError(`${method}: CometBFT RPC unreachable (${(err as Error).message}${why ? `: ${why}` : ''})`);
    }
    const body = (await res.json()) as { result?: Record<string, unknown>; error?: { message?: string; data?: string } };
    if (body.error !== undefined || body.result === undefined)
      throw new CometRpcError(`${method}: ${body.error?.message ?? 'no result'}${body.error?.data ? ` (${body.error.data})` : ''}`);
    return body.result;
  }

  /**
   * POST one call. A kept-alive connection that CometBFT's server has already closed (its idle
   * timeout, under load) fails with UND_ERR_SOCKET before any byte is answered; reads are
   * repeated on a fresh connection, a submission never is (its caller decides, see
   * comet-engine.ts), since CometBFT may have taken it.
   */
  private async post(method: string, params: Record<string, unknown>): Promise<Response> {
    const reads = method !== 'broadcast_tx_sync' && method !== 'broadcast_tx_async' && method !== 'broadcast_tx_commit';
    for (let attempt = 1; ; attempt++) {
      try {
        return await fetch(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ jsonrpc: '2.0', id: this.nextId++, method, params }),
        });
      } catch (err) {
        const code = (err as Error & { cause?: { code?: string } }).cause?.code;
        if (!reads || attempt >= 3 || (code !== 'UND_ERR_SOCKET' && code !== 'ECONNRESET')) throw err;
      }
    }
  }

  /** Submit through CheckTx and wait for its answer (not for the commit). */
  async broadcastTxSync(tx: Uint8Array): Promise<BroadcastResult> {
    const r = await this.call('broadcast_tx_sync', { tx: Buffer.from(tx).toString('base64') });
    return {
      code: Number(r.code),
      // HexBytes in this result (base64 is used for plain byte fields, as in `tx`).
      data: new Uint8Array(Buffer.from(String(r.data ?? ''), 'hex')),
      log: String(r.log ?? ''),
      codespace: String(r.codespace ?? ''),
      hash: String(r.hash),
    };
  }

  /** The latest block height CometBFT has, and whether it is still catching up. */
  async status(): Promise<{ height: number; appHash: string; catchingUp: boolean }> {
    const r = (await this.call('status', {})) as {
      sync_info: { latest_block_height: string; latest_app_hash: string; catching_up: boolean };
    };
    return { height: Number(r.sync_info.latest_block_height), appHash: r.sync_info.latest_app_hash, catchingUp: r.sync_info.catching_up };
  }

  /** A committed tx by hash (hex): its height and result, or undefined when not (yet) indexed. */
  async tx(hash: string): Promise<{ height: number; index: number; code: number; data: Uint8Array } | undefined> {
    try {
      const r = (await this.call('tx', { hash: Buffer.from(hash, 'hex').toString('base64') })) as {
        height: string;
        index: number;
        tx_result: { code?: number; data?: string };
      };
      return {
        height: Number(r.height),
        index: r.index,
        code: r.tx_result.code ?? 0,
        data: new Uint8Array(Buffer.from(r.tx_result.data ?? '', 'base64')),
      };
    } catch (err) {
      if (err instanceof CometRpcError && /not found/.test(err.message)) return undefined;
      throw err;
    }
  }

  /** Raw JSON of a call, for tests and verification tools (e.g. `commit`, `block`). */
  async raw(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.call(method, params);
  }
}
