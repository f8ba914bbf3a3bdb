// The node address a user types for a copy of the app: one stored form, and plain refusals.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeNodeUrl } from './node-url.js';

test('node addresses are stored in one form: scheme, host, port, path, no trailing slash', () => {
  assert.equal(normalizeNodeUrl(' https://Node.Example.org/ '), 'https://node.example.org');
  assert.equal(normalizeNodeUrl('127.0.0.1:26650'), 'http://127.0.0.1:26650');
  assert.equal(normalizeNodeUrl('https://example.org/medledger//'), 'https://example.org/medledger');
  assert.equal(normalizeNodeUrl('http://[::1]:26650'), 'http://[::1]:26650');
});

test('what is not a node address is refused in words', () => {
  const refused = (raw: string, why: RegExp) => assert.throws(() => normalizeNodeUrl(raw), why, raw);
  refused('', /not a web address/);
  refused('not a web address at all', /not a web address/);
  refused('ftp://example.org', /must start with https:\/\/ or http:\/\//);
  refused('javascript://alert(1)', /must start with https:\/\/ or http:\/\//);
  refused('https://user:pw@example.org', /user name or password/);
  refused('https://example.org/?x=1', /\? or #/);
  refused('https://example.org/#/records', /\? or #/);
});
