// The SMART token endpoint and bearer check (auth.ts) against committed identities: staff of
// an organization that governance has suspended get no token, and lose the ones they hold.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateKeyBundle, idFromPublicKey } from '@medledger/crypto';
import { type Identity, keys } from '@medledger/ehr';
import { OAuthError, SmartAuth, signClientAssertion } from './auth.js';
import { FhirError } from './outcome.js';

const TOKEN_URL = 'https://node.example/fhir/auth/token';

function identityOf(bundle: ReturnType<typeof generateKeyBundle>, extra: Partial<Identity>): Identity {
  return {
    id: idFromPublicKey(bundle.signing.publicKey),
    role: 'clinician',
    publicKey: bundle.signing.publicKey,
    encryptionKey: bundle.encryption.publicKey,
    registeredAt: { height: 1, time: 0 },
    status: 'active',
    ...extra,
  };
}

test('staff of a suspended organization get no token and lose the tokens they hold; reinstated, they get one again', async () => {
  const orgKeys = generateKeyBundle();
  const staffKeys = generateKeyBundle();
  const org = identityOf(orgKeys, { role: 'organization', orgKind: 'hospital', name: 'General Hospital' });
  const staff = identityOf(staffKeys, { org: org.id });
  const state = new Map<string, string>();
  const put = (i: Identity) => state.set(keys.identity(i.id), JSON.stringify(i));
  put(org);
  put(staff);
  const auth = new SmartAuth(org.id, { state: { getState: (k) => state.get(k) }, now: () => Date.now() });
  const token = async () =>
    auth.issueToken(
      {
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await signClientAssertion({ clientId: staff.id, privateKey: staffKeys.signing.privateKey, tokenUrl: TOKEN_URL }),
        scope: 'system/*.cruds',
      },
      TOKEN_URL,
    );

  const held = (await token()).access_token;
  assert.equal(auth.authenticate(`Bearer ${held}`).identity.id, staff.id);

  put({ ...org, status: 'suspended' });
  assert.throws(
    () => auth.authenticate(`Bearer ${held}`),
    (e: unknown) => e instanceof FhirError && e.status === 401,
  );
  await assert.rejects(token(), (e: unknown) => e instanceof OAuthError && e.error === 'invalid_client');

  put(org);
  const again = (await token()).access_token;
  assert.equal(auth.authenticate(`Bearer ${again}`).identity.id, staff.id);
});
