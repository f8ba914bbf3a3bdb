// SDK keystores are the CLI's files: each side opens what the other writes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decryptKeystore, encryptKeystore, generateKeyBundle } from '@medledger/crypto';
import { createKeystore, keystoreIdentity, openKeystore } from './keystore.js';

test('a CLI keystore opens in the SDK and an SDK keystore opens in the CLI; a wrong passphrase is BAD_PASSPHRASE', async () => {
  const keys = generateKeyBundle();
  const cliFile = encryptKeystore(keys, 'pass phrase', { scryptN: 2 ** 10, label: 'Alice' });
  assert.deepEqual(await openKeystore(JSON.stringify(cliFile), 'pass phrase'), keys);
  await assert.rejects(openKeystore(cliFile, 'another'), (e: { code?: string }) => e.code === 'BAD_PASSPHRASE');
  assert.deepEqual(keystoreIdentity(cliFile), {
    id: cliFile.id,
    publicKey: keys.signing.publicKey,
    encryptionKey: keys.encryption.publicKey,
    label: 'Alice',
  });
  const sdkFile = await createKeystore(keys, 'pass phrase', { scryptN: 2 ** 10 });
  assert.deepEqual(decryptKeystore(sdkFile, 'pass phrase'), keys);
  assert.throws(
    () => keystoreIdentity({ format: 'something else' }),
    (e: { code?: string }) => e.code === 'KEYSTORE_FORMAT',
  );
});
