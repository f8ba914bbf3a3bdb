// ABCI framing and the socket server against cosmjs-types' codec: lengths as unsigned
// varints, messages split across and packed into TCP chunks, responses in request order.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { Request, Response } from 'cosmjs-types/tendermint/abci/types';
import { freePort } from '../testing/harness.js';
import { encodeFrame, FrameReader, FramingError, MAX_FRAME_BYTES, readLength } from './framing.js';
import { AbciServer } from './server.js';

test('frame lengths are unsigned varints (protoio): 0, 127, 128, 300', () => {
  assert.deepEqual([...encodeFrame(new Uint8Array(0))], [0]);
  assert.deepEqual([...encodeFrame(new Uint8Array(127)).subarray(0, 1)], [127]);
  assert.deepEqual([...encodeFrame(new Uint8Array(128)).subarray(0, 2)], [0x80, 0x01]);
  assert.deepEqual([...encodeFrame(new Uint8Array(300)).subarray(0, 2)], [0xac, 0x02]);
  assert.deepEqual(readLength(new Uint8Array([0xac, 0x02]), 0), { value: 300, size: 2 });
  assert.equal(readLength(new Uint8Array([0xac]), 0), undefined);
});

test('a frame reader gets the same messages however the stream is chunked', () => {
  const messages = [new Uint8Array(0), new Uint8Array(5).fill(7), new Uint8Array(200).fill(9), new Uint8Array(1)];
  const stream = Buffer.concat(messages.map(encodeFrame));
  for (const size of [1, 2, 3, 64, stream.length]) {
    const reader = new FrameReader();
    const got: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i += size) got.push(...reader.push(new Uint8Array(stream.subarray(i, i + size))));
    assert.deepEqual(
      got.map((m) => [...m]),
      messages.map((m) => [...m]),
      `chunks of ${size}`,
    );
  }
});

test('an oversized or endless length prefix is refused, not buffered', () => {
  const big = MAX_FRAME_BYTES + 1;
  const prefix = [(big & 0x7f) | 0x80, ((big >> 7) & 0x7f) | 0x80, ((big >> 14) & 0x7f) | 0x80, big >> 21];
  assert.throws(() => new FrameReader().push(new Uint8Array(prefix)), FramingError);
  assert.throws(() => new FrameReader().push(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])), FramingError);
});

test('the server answers pipelined requests in order, Flush last, and a failing handler as an exception', async () => {
  const port = await freePort();
  const seen: string[] = [];
  const server = new AbciServer(
    { listen: { host: '127.0.0.1', port } },
    {
      handler: (req) => {
        if (req.info !== undefined) {
          seen.push('info');
          return Response.fromPartial({ info: { data: 'medledger', lastBlockHeight: 7n } });
        }
        if (req.commit !== undefined) throw new Error('store is broken');
        seen.push('other');
        return Response.fromPartial({ checkTx: { code: 0 } });
      },
      log: () => {},
    },
  );
  await server.start();
  try {
    const requests = [
      Request.fromPartial({ echo: { message: 'hello' } }),
      Request.fromPartial({ info: { version: '0.38.26' } }),
      Request.fromPartial({ checkTx: { tx: new Uint8Array([1, 2, 3]) } }),
      Request.fromPartial({ commit: {} }),
      Request.fromPartial({ flush: {} }),
    ];
    const socket = connect(port, '127.0.0.1');
    const reader = new FrameReader();
    const responses: Response[] = [];
    const done = new Promise<void>((resolve, reject) => {
      socket.on('data', (chunk: Buffer) => {
        for (const m of reader.push(new Uint8Array(chunk))) responses.push(Response.decode(m));
        if (responses.length === requests.length) resolve();
      });
      socket.on('error', reject);
    });
    // All five in one write, split at an odd byte boundary, as CometBFT's buffered writer may send them.
    const bytes = Buffer.concat(requests.map((r) => encodeFrame(Request.encode(r).finish())));
    socket.write(bytes.subarray(0, 3));
    await new Promise((r) => setTimeout(r, 20));
    socket.write(bytes.subarray(3));
    await done;
    socket.destroy();
    assert.equal(responses[0]?.echo?.message, 'hello');
    assert.equal(responses[1]?.info?.lastBlockHeight, 7n);
    assert.equal(responses[2]?.checkTx?.code, 0);
    assert.match(responses[3]?.exception?.error ?? '', /store is broken/);
    assert.ok(responses[4]?.flush !== undefined);
    assert.deepEqual(seen, ['info', 'other']);
  } finally {
    await server.stop();
  }
});
