import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { setIoFirstTimeout } from './io-first-timer.js';

function busyWait(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {}
}

test('a timeout that expires while the loop is blocked runs after the message that arrived meanwhile', async (t) => {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const address = server.address() as { port: number };
  const client = connect(address.port, '127.0.0.1');
  const [peer] = (await once(server, 'connection')) as [Socket];
  await once(client, 'connect');
  t.after(() => {
    client.destroy();
    peer.destroy();
  });

  const order: string[] = [];
  peer.on('data', () => order.push('message'));
  const done = new Promise<void>((resolve) => {
    setIoFirstTimeout(() => {
      order.push('timeout');
      resolve();
    }, 5);
  });
  client.write('proposal');
  // The loop is blocked past the timeout while the message is already in the socket.
  busyWait(60);
  await done;
  assert.deepEqual(order, ['message', 'timeout']);
});
