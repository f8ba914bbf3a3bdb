// The CometBFT engine's hand-over of transactions (comet-engine.ts), against a fake RPC.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateSigningKeyPair } from '@medledger/crypto';
import { type SignedTx, signTx, txHash } from '@medledger/ledger';
import { CometEngine } from './comet-engine.js';
import type { BroadcastResult } from './rpc.js';

const key = generateSigningKeyPair();
const tx = (nonce: number): SignedTx =>
  signTx({ v: 1, chain: 'c', kind: 'identity.register', signer: key.publicKey, nonce, body: {} }, key.privateKey);
const ok = (hash: string): BroadcastResult => ({ code: 0, data: new Uint8Array(0), log: '', codespace: '', hash });

test('nonce-reordering-by-concurrent-broadcast: one signer’s transactions reach CometBFT one at a time, in admission order', async () => {
  const seen: number[] = [];
  let inFlight = 0;
  const engine = new CometEngine(
    { attempts: 3, retryMs: 1 },
    {
      broadcast: async (bytes) => {
        inFlight++;
        assert.equal(inFlight, 1, 'a second broadcast started before the first was answered');
        const parsed = JSON.parse(new TextDecoder().decode(bytes)) as SignedTx;
        // The later transactions answer faster: concurrent broadcasts would arrive out of order.
        await new Promise((r) => setTimeout(r, 20 - parsed.nonce * 4));
        seen.push(parsed.nonce);
        inFlight--;
        return ok('');
      },
      onRefused: () => assert.fail('nothing is refused'),
      log: () => {},
    },
  );
  engine.start();
  for (let n = 0; n < 5; n++) engine.onTx(tx(n));
  await engine.settled();
  assert.deepEqual(seen, [0, 1, 2, 3, 4]);
});

test("CometBFT's refusal is reported with the application's stable code; an unreachable RPC after the attempts as ENGINE_UNAVAILABLE", async () => {
  const refused: Array<{ hash: string; code: string }> = [];
  let calls = 0;
  const engine = new CometEngine(
    { attempts: 3, retryMs: 1 },
    {
      broadcast: async (bytes) => {
        calls++;
        const t = JSON.parse(new TextDecoder().decode(bytes)) as SignedTx;
        if (t.nonce === 0)
          return {
            code: 1,
            data: new TextEncoder().encode('{"code":"NONCE_REUSED","log":"x"}'),
            log: '',
            codespace: 'medledger',
            hash: '',
          };
        throw new Error('connect ECONNREFUSED');
      },
      onRefused: (hash, code) => refused.push({ hash, code }),
      log: () => {},
    },
  );
  engine.start();
  engine.onTx(tx(0));
  engine.onTx(tx(1));
  await engine.settled();
  assert.deepEqual(refused, [
    { hash: txHash(tx(0)), code: 'NONCE_REUSED' },
    { hash: txHash(tx(1)), code: 'ENGINE_UNAVAILABLE' },
  ]);
  assert.equal(calls, 1 + 3);
});
