// CometRpc against a stand-in server that drops connections the way CometBFT's RPC does when
// it closes a kept-alive connection: reads are repeated on a fresh connection, submissions never.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { CometRpc, CometRpcError } from './rpc.js';

/** A JSON-RPC server that destroys the first `drops` requests' sockets without answering. */
async function flakyServer(drops: number) {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += String(c);
    });
    req.on('end', () => {
      const { id, method } = JSON.parse(body) as { id: number; method: string };
      seen.push(method);
      if (seen.length <= drops) {
        req.socket.destroy();
        return;
      }
      const result =
        method === 'status'
          ? { sync_info: { latest_block_height: '7', latest_app_hash: 'AB', catching_up: false } }
          : { code: 0, data: '', log: '', codespace: '', hash: 'CD' };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ jsonrpc: '2.0', id, result }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test('a read whose connection CometBFT closed unanswered is repeated and succeeds', async () => {
  const s = await flakyServer(2);
  try {
    const status = await new CometRpc(s.url).status();
    assert.equal(status.height, 7);
    assert.deepEqual(s.seen, ['status', 'status', 'status']);
  } finally {
    await s.close();
  }
});

test('a read that keeps failing is reported as unreachable with the socket reason, after three attempts', async () => {
  const s = await flakyServer(10);
  try {
    await assert.rejects(new CometRpc(s.url).status(), (err: Error) => {
      assert.ok(err instanceof CometRpcError);
      assert.match(err.message, /status: CometBFT RPC unreachable \(fetch failed: UND_ERR_SOCKET/);
      return true;
    });
    assert.equal(s.seen.length, 3);
  } finally {
    await s.close();
  }
});

test('a submission is never repeated by the RPC client: CometBFT may already hold it', async () => {
  const s = await flakyServer(1);
  try {
    await assert.rejects(new CometRpc(s.url).broadcastTxSync(new Uint8Array([1, 2, 3])), /broadcast_tx_sync: CometBFT RPC unreachable/);
    assert.deepEqual(s.seen, ['broadcast_tx_sync']);
  } finally {
    await s.close();
  }
});
