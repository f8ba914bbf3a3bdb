// Names a user gives to sharing codes on this device: one line of plain text, trimmed, capped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanLocalName, LOCAL_NAME_MAX } from './accounts.js';

test('a local name is one trimmed line: control characters, line breaks and runs of spaces become one space', () => {
  assert.equal(cleanLocalName('  Ana,\n\tmy   daughter\u0000 \u2028'), 'Ana, my daughter');
  assert.equal(cleanLocalName(' \n '), '');
  assert.equal(cleanLocalName('<b>Ana</b>'), '<b>Ana</b>', 'markup is kept as text (React escapes it where shown)');
});

test('a local name is cut to LOCAL_NAME_MAX characters, whole characters only', () => {
  assert.equal(cleanLocalName('x'.repeat(200)).length, LOCAL_NAME_MAX);
  const emoji = cleanLocalName('😀'.repeat(100));
  assert.equal([...emoji].length, LOCAL_NAME_MAX);
  assert.equal(emoji, '😀'.repeat(LOCAL_NAME_MAX), 'no surrogate half is left at the cut');
  assert.equal(cleanLocalName(`${'a'.repeat(LOCAL_NAME_MAX - 1)} b`), 'a'.repeat(LOCAL_NAME_MAX - 1), 'no space is left at the end');
});
