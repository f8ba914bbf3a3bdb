// Errors in words: a hospital-wide share opened on a node that is not the hospital's says where to go.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { friendlyError } from './labels.js';

test('ORGANIZATION_KEY says to use the organization’s own server, not "something went wrong"', () => {
  const text = friendlyError({ code: 'ORGANIZATION_KEY' });
  assert.match(text, /organization’s own server/);
  assert.doesNotMatch(text, /Something went wrong/);
});
