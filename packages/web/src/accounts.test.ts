// Names a user gives to sharing codes on this device: one line of plain text, trimmed, capped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateKeyBundle, idFromPublicKey } from '@medledger/crypto/browser';
import { cleanLocalName, closeNameBook, LOCAL_NAME_MAX, localName, nameSaveProblem, openNameBook, setLocalName } from './accounts.js';

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

// The address book (accounts.ts openNameBook/localName/setLocalName) in a Node stand-in for
// the browser's localStorage; WebCrypto is Node's own.
class MemoryStorage {
  readonly items = new Map<string, string>();
  full = false;
  getItem(k: string): string | null {
    return this.items.get(k) ?? null;
  }
  setItem(k: string, v: string): void {
    if (this.full) throw new Error('QuotaExceededError');
    this.items.set(k, String(v));
  }
  removeItem(k: string): void {
    this.items.delete(k);
  }
  text(): string {
    return [...this.items].join('\n');
  }
}

async function withStorage(run: (storage: MemoryStorage) => Promise<void>): Promise<void> {
  const storage = new MemoryStorage();
  (globalThis as { localStorage?: unknown }).localStorage = storage;
  try {
    await run(storage);
  } finally {
    closeNameBook();
    delete (globalThis as { localStorage?: unknown }).localStorage;
  }
}

const account = () => {
  const keys = generateKeyBundle();
  return { keys, id: idFromPublicKey(keys.signing.publicKey) };
};
const JANE = 'aa'.repeat(20);
const ANA = 'bb'.repeat(20);

test('names are kept encrypted per account: back after signing in again, never in plain text, gone after sign-out', async () => {
  await withStorage(async (storage) => {
    const me = account();
    await openNameBook(me.keys, me.id);
    assert.equal(localName(JANE), undefined);
    assert.equal(await setLocalName(JANE, '  Jane\n Smith '), true);
    assert.equal(await setLocalName(ANA, 'Ana Silva'), true);
    assert.equal(localName(JANE), 'Jane Smith', 'shown at once, cleaned');
    assert.deepEqual([...storage.items.keys()], [`medledger.names.${me.id}`]);
    for (const leak of ['Jane', 'Smith', 'Ana', 'Silva', JANE, ANA])
      assert.ok(!storage.text().includes(leak), `${leak} stored in plain text`);
    const first = storage.getItem(`medledger.names.${me.id}`);
    assert.equal(await setLocalName(ANA, ''), true, 'an empty name forgets it');
    const second = JSON.parse(storage.getItem(`medledger.names.${me.id}`) ?? '{}') as { v: number; iv: string };
    assert.equal(second.v, 1);
    assert.notEqual(second.iv, (JSON.parse(first ?? '{}') as { iv: string }).iv, 'a fresh IV each save');

    closeNameBook();
    assert.equal(localName(JANE), undefined, 'signed out: no names in memory');
    await openNameBook(me.keys, me.id);
    assert.equal(localName(JANE), 'Jane Smith', 'back after signing in again');
    assert.equal(localName(ANA), undefined);
  });
});

test('another account cannot read a book: a different key reads it as empty and leaves it as it is', async () => {
  await withStorage(async (storage) => {
    const me = account();
    const other = account();
    await openNameBook(me.keys, me.id);
    await setLocalName(JANE, 'Jane Smith');
    const mine = storage.getItem(`medledger.names.${me.id}`);
    closeNameBook();

    await openNameBook(other.keys, other.id);
    assert.equal(localName(JANE), undefined, 'the second account sees none of the first one’s names');
    // Even pointed at the first account's entry (its id with another key), it does not open.
    closeNameBook();
    await openNameBook(other.keys, me.id);
    assert.equal(localName(JANE), undefined);
    assert.equal(storage.getItem(`medledger.names.${me.id}`), mine, 'not overwritten by reading');
    closeNameBook();
    await openNameBook(me.keys, me.id);
    assert.equal(localName(JANE), 'Jane Smith');
  });
});

test('a damaged book reads as empty, does not stop sign-in, and is replaced only when a name is saved', async () => {
  await withStorage(async (storage) => {
    const me = account();
    await openNameBook(me.keys, me.id);
    await setLocalName(JANE, 'Jane Smith');
    const stored = JSON.parse(storage.getItem(`medledger.names.${me.id}`) ?? '{}') as { v: number; iv: string; ct: string };
    const flipped = `${stored.ct[0] === 'A' ? 'B' : 'A'}${stored.ct.slice(1)}`;
    for (const damaged of [JSON.stringify({ ...stored, ct: flipped }), 'not json', '{"v":2,"iv":"x","ct":"y"}', '[]', 'null']) {
      closeNameBook();
      storage.setItem(`medledger.names.${me.id}`, damaged);
      await openNameBook(me.keys, me.id);
      assert.equal(localName(JANE), undefined, damaged);
      assert.equal(storage.getItem(`medledger.names.${me.id}`), damaged, 'left as it is');
    }
    assert.equal(await setLocalName(ANA, 'Ana'), true);
    closeNameBook();
    await openNameBook(me.keys, me.id);
    assert.equal(localName(ANA), 'Ana', 'saving a name starts a new book');
  });
});

test('names an older version kept in plain text move into the first account signed in, and the plain copy is deleted', async () => {
  await withStorage(async (storage) => {
    storage.setItem('medledger.names', JSON.stringify({ [JANE]: ` Jane ${'x'.repeat(200)}`, [ANA]: 7, bad: '  ' }));
    const first = account();
    await openNameBook(first.keys, first.id);
    assert.equal(storage.getItem('medledger.names'), null, 'the plain copy is gone');
    assert.equal(localName(JANE), `Jane ${'x'.repeat(LOCAL_NAME_MAX - 5)}`, 'cleaned as any name');
    assert.equal(localName(ANA), undefined, 'not a name: dropped');
    assert.ok(!storage.text().includes('Jane'));
    closeNameBook();
    await openNameBook(first.keys, first.id);
    assert.equal(localName(JANE)?.slice(0, 4), 'Jane', 'saved in the encrypted book');
    closeNameBook();
    const second = account();
    await openNameBook(second.keys, second.id);
    assert.equal(localName(JANE), undefined, 'a later account does not get them');
  });
});

test('a name that cannot be saved is kept until sign-out and the problem is reported', async () => {
  await withStorage(async (storage) => {
    const me = account();
    await openNameBook(me.keys, me.id);
    storage.full = true;
    assert.equal(await setLocalName(JANE, 'Jane Smith'), false);
    assert.equal(nameSaveProblem.get(), true);
    assert.equal(localName(JANE), 'Jane Smith', 'kept in memory this session');
    storage.full = false;
    assert.equal(await setLocalName(ANA, 'Ana'), true, 'a later save works again');
    assert.equal(nameSaveProblem.get(), false);
    closeNameBook();
    await openNameBook(me.keys, me.id);
    assert.equal(localName(JANE), 'Jane Smith', 'the later save stored both');
    closeNameBook();
    assert.equal(await setLocalName(JANE, 'Jane'), false, 'signed out: nothing is saved');
  });
});
