// `medledger token`: a token from a key file that the FHIR endpoint accepts, and a clear
// refusal for a key that is not the organization's.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { encryptKeystore, generateKeyBundle } from '@medledger/crypto';
import { HOME_FILES } from '@medledger/node';
import { startSoloNode, TEST_PASSPHRASE, type TestNode } from '@medledger/node/testing';
import { fetchToken } from './token.js';

// Node homes' keystores are encrypted; this file's nodes and CLI runs use the test passphrase.
process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const bin = fileURLToPath(new URL('../../bin/medledger.js', import.meta.url));
let t: TestNode;
let base: string;
before(async () => {
  t = await startSoloNode({ config: { fhir: {} } });
  base = `${t.url}/fhir/R4`;
});
after(async () => {
  await t.cleanup();
});

test('medledger token prints a bearer token the FHIR endpoint accepts', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [
    bin,
    'token',
    '--key',
    join(t.dir, 'node0', HOME_FILES.orgKey),
    '--url',
    base,
  ]);
  const token = stdout.trim();
  assert.match(token, /^[0-9a-f]{64}$/);
  const res = await fetch(`${base}/Observation`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { resourceType: string }).resourceType, 'Bundle');
});

test('a key that is not the organization’s gets no token', async () => {
  const file = join(t.dir, 'stranger.json');
  writeFileSync(file, JSON.stringify(encryptKeystore(generateKeyBundle(), TEST_PASSPHRASE)));
  await assert.rejects(fetchToken({ keyFile: file, url: base }), /invalid_client/);
});

// A novice gives the API URL instead of the FHIR base, or a node that serves no FHIR: the
// answer says what is missing and what to pass, not a bare "answered 404".
test('a URL with no FHIR endpoint behind it is named, with what to pass instead', async () => {
  const plain = await startSoloNode();
  try {
    for (const url of [t.url, `${plain.url}/fhir/R4`]) {
      await assert.rejects(fetchToken({ keyFile: join(t.dir, 'node0', HOME_FILES.orgKey), url }), (err: Error & { exitCode?: number }) => {
        assert.match(err.message, /no FHIR endpoint at .* \(\/metadata (answered 404|is not JSON)\)/);
        assert.match(err.message, /"fhir" entry/);
        assert.match(err.message, /\/fhir\/R4/);
        return true;
      });
    }
  } finally {
    await plain.cleanup();
  }
});
