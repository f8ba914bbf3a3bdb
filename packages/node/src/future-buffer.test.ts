// The future-height buffer alone: bounded per peer and in all, nearest heights kept first,
// one copy per message, and counts that stay right as heights are taken and dropped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FutureBuffer, MAX_FUTURE_MESSAGES, MAX_FUTURE_PER_PEER, MAX_FUTURE_PROPOSALS_PER_PEER } from './future-buffer.js';

const msg = (n: number) => ({ type: 'vote', n });

test('one peer filling its share cannot push out what other peers sent', () => {
  const b = new FutureBuffer();
  for (let i = 0; i < MAX_FUTURE_PER_PEER + 100; i++) b.add('mallory', 3, `m${i}`, false, msg(i));
  assert.equal(b.size('mallory'), MAX_FUTURE_PER_PEER);
  assert.equal(b.add('alice', 2, 'a1', false, msg(1)), true);
  assert.equal(b.size('alice'), 1);
  assert.equal(b.size(), MAX_FUTURE_PER_PEER + 1);
});

test('a full share keeps the nearest heights: a nearer message replaces a farthest one, a farther one is dropped', () => {
  const b = new FutureBuffer();
  for (let i = 0; i < MAX_FUTURE_PER_PEER; i++) b.add('p', 4, `far${i}`, false, msg(i));
  assert.equal(b.add('p', 5, 'farther', false, msg(0)), false);
  assert.equal(b.add('p', 2, 'near', false, msg(0)), true);
  assert.equal(b.size('p'), MAX_FUTURE_PER_PEER);
  assert.deepEqual(
    b.take(2).map((e) => e.peer),
    ['p'],
  );
  assert.equal(b.size('p'), MAX_FUTURE_PER_PEER - 1);
});

test('the same message relayed twice is kept once; proposals are capped per peer', () => {
  const b = new FutureBuffer();
  assert.equal(b.add('p', 2, 'same', false, msg(1)), true);
  assert.equal(b.add('q', 2, 'same', false, msg(1)), false);
  for (let i = 0; i < MAX_FUTURE_PROPOSALS_PER_PEER; i++) assert.equal(b.add('p', 2, `prop${i}`, true, msg(i)), true);
  assert.equal(b.add('p', 2, 'one more', true, msg(9)), false);
  assert.equal(b.size(), 1 + MAX_FUTURE_PROPOSALS_PER_PEER);
});

test('the total bound holds across many peers, and dropThrough forgets committed heights', () => {
  const b = new FutureBuffer();
  const peers = Math.ceil(MAX_FUTURE_MESSAGES / MAX_FUTURE_PER_PEER) + 2;
  for (let p = 0; p < peers; p++) for (let i = 0; i < MAX_FUTURE_PER_PEER; i++) b.add(`peer${p}`, 2 + (i % 2), `${p}/${i}`, false, msg(i));
  assert.equal(b.size(), MAX_FUTURE_MESSAGES);
  assert.equal(b.has(2), true);
  b.dropThrough(2);
  assert.equal(b.has(2), false);
  assert.equal(b.size(), MAX_FUTURE_MESSAGES / 2);
  // Forgotten keys may come again.
  assert.equal(b.add('peer0', 3, '0/0', false, msg(0)), true);
});
