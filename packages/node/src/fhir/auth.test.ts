// The SMART token endpoint and bearer check (auth.ts) against committed identities: staff of
// an organization that governance has suspended get no token, and lose the ones they hold.
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateKeyBundle, idFromPublicKey, utf8 } from '@medledger/crypto';
import { type Identity, keys } from '@medledger/ehr';
import { SignJWT } from 'jose';
import {
  intersectScopes,
  isSystemScope,
  OAuthError,
  type ScopeAction,
  SmartAuth,
  scopeAllows,
  signClientAssertion,
  TOKEN_LIFETIME_S,
} from './auth.js';
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

// ---- The token endpoint against hostile client assertions (RFC 7523, SMART Backend Services) ----

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

/** An organization admin on a fake state, its SmartAuth at a settable clock, and a form for an assertion. */
function harness(
  registration: (orgId: string) => { clients?: ReadonlyMap<string, readonly string[]>; clientsOnly?: boolean } = () => ({}),
) {
  const orgKeys = generateKeyBundle();
  const org = identityOf(orgKeys, { role: 'organization', orgKind: 'hospital', name: 'General Hospital' });
  const state = new Map<string, string>();
  const put = (i: Identity) => state.set(keys.identity(i.id), JSON.stringify(i));
  put(org);
  const clock = { now: Date.now() };
  const auth = new SmartAuth(org.id, { state: { getState: (k) => state.get(k) }, now: () => clock.now, ...registration(org.id) });
  const form = (assertion: string, scope?: unknown) =>
    ({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
      ...(scope === undefined ? {} : { scope }),
    }) as unknown as Record<string, string>;
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519, Buffer.from(orgKeys.signing.privateKey, 'hex')]),
    format: 'der',
    type: 'pkcs8',
  });
  /** An EdDSA assertion signed with the org key, with the given claims (undefined drops one). */
  const signed = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) => {
    const iat = Math.floor(clock.now / 1000);
    const payload = Object.fromEntries(
      Object.entries({ iss: org.id, sub: org.id, aud: TOKEN_URL, iat, exp: iat + 240, jti: randomUUID(), ...claims }).filter(
        ([, v]) => v !== undefined,
      ),
    );
    return new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', ...header }).sign(privateKey);
  };
  return { org, orgKeys, auth, form, signed, clock, put };
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const refusedAs = (error: string) => (e: unknown) => e instanceof OAuthError && e.error === error;

test('alg none, HS256 keyed with the public key, and a kid or embedded jwk naming another key are refused', async () => {
  const { org, orgKeys, auth, form } = harness();
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: org.id, sub: org.id, aud: TOKEN_URL, exp: now + 240, jti: randomUUID() };
  const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
  await assert.rejects(auth.issueToken(form(none), TOKEN_URL), refusedAs('invalid_client'));
  // HMAC keyed with the identity's public key, as hex and as raw bytes (the classic confusion).
  for (const secret of [utf8(orgKeys.signing.publicKey), Buffer.from(orgKeys.signing.publicKey, 'hex')]) {
    const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(secret);
    await assert.rejects(auth.issueToken(form(hs), TOKEN_URL), refusedAs('invalid_client'));
  }
  // Signed by an attacker's key, which the header names (kid) or embeds (jwk): the chain's key decides.
  const attacker = generateKeyPairSync('ed25519');
  const jwk = attacker.publicKey.export({ format: 'jwk' });
  for (const header of [{ kid: 'attacker' }, { jwk }]) {
    const forged = await new SignJWT({ ...claims, jti: randomUUID() })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', ...header })
      .sign(attacker.privateKey);
    await assert.rejects(auth.issueToken(form(forged), TOKEN_URL), refusedAs('invalid_client'));
  }
  assert.deepEqual(auth.sizes(), { tokens: 0, jti: 0 });
});

test('claims: sub ≠ iss, no or wrong aud, no exp or jti, exp too far ahead, nbf ahead are refused; a good one is not', async () => {
  const { auth, form, signed } = harness();
  const stranger = idFromPublicKey(generateKeyBundle().signing.publicKey);
  const nowS = Math.floor(Date.now() / 1000);
  const cases: Array<[string, Record<string, unknown>]> = [
    ['sub is another identity', { sub: stranger }],
    ['no aud', { aud: undefined }],
    ['aud of another node', { aud: 'https://other.example/fhir/R4/auth/token' }],
    ['no exp', { exp: undefined }],
    ['exp a year ahead', { exp: nowS + 365 * 86_400 }],
    ['exp a string', { exp: String(nowS + 60) }],
    ['no jti', { jti: undefined }],
    ['nbf in an hour', { nbf: nowS + 3600 }],
  ];
  for (const [what, claims] of cases)
    await assert.rejects(auth.issueToken(form(await signed(claims)), TOKEN_URL), refusedAs('invalid_client'), what);
  assert.equal((await auth.issueToken(form(await signed({})), TOKEN_URL)).token_type, 'bearer');
});

test('an oversized assertion, and form fields that are not strings, are invalid_request, not a server error', async () => {
  const { auth, form, signed } = harness();
  const big = await signed({ pad: 'x'.repeat(5000) });
  await assert.rejects(auth.issueToken(form(big), TOKEN_URL), refusedAs('invalid_request'));
  await assert.rejects(auth.issueToken(form(await signed({}), ['system/*.read']), TOKEN_URL), refusedAs('invalid_request'));
  await assert.rejects(
    auth.issueToken({ ...form(await signed({})), grant_type: ['client_credentials'] as unknown as string }, TOKEN_URL),
    refusedAs('invalid_request'),
  );
});

test('patient/ and user/ scopes, and scopes this server does not grant, are invalid_scope; a read-only token writes nothing', async () => {
  const { auth, form, signed } = harness();
  for (const scope of ['patient/*.read', 'user/Observation.rs', 'system/*.read launch', 'system/Observation.', 'openid'])
    await assert.rejects(auth.issueToken(form(await signed({}), scope), TOKEN_URL), refusedAs('invalid_scope'), scope);
  const granted = await auth.issueToken(form(await signed({}), 'system/Observation.rs'), TOKEN_URL);
  assert.equal(granted.scope, 'system/Observation.rs');
  const { scopes } = auth.authenticate(`Bearer ${granted.access_token}`);
  assert.equal(scopeAllows(scopes, 'Observation', 'r'), true);
  for (const action of ['c', 'u'] as const) assert.equal(scopeAllows(scopes, 'Observation', action), false);
  assert.equal(scopeAllows(scopes, 'Patient', 'r'), false);
  assert.equal(scopeAllows(scopes, '*', 's'), false, 'a search across types needs a system/* scope');
});

test('a token dies after its lifetime and when its identity’s key is rotated', async () => {
  const { org, auth, form, signed, clock, put } = harness();
  const first = (await auth.issueToken(form(await signed({})), TOKEN_URL)).access_token;
  clock.now += (TOKEN_LIFETIME_S - 1) * 1000;
  assert.equal(auth.authenticate(`Bearer ${first}`).identity.id, org.id);
  clock.now += 1000;
  assert.throws(
    () => auth.authenticate(`Bearer ${first}`),
    (e: unknown) => e instanceof FhirError && e.status === 401,
  );
  const second = (await auth.issueToken(form(await signed({})), TOKEN_URL)).access_token;
  put({ ...org, publicKey: generateKeyBundle().signing.publicKey });
  assert.throws(
    () => auth.authenticate(`Bearer ${second}`),
    (e: unknown) => e instanceof FhirError && e.status === 401,
  );
});

test('an assertion used before a restart is still refused after it; expired ones are dropped from the jti file', async () => {
  const { org, form, signed, clock } = harness();
  const dir = mkdtempSync(join(tmpdir(), 'smart-jti-'));
  try {
    const jtiFile = join(dir, 'fhir-jti.log');
    const state = new Map<string, string>([[keys.identity(org.id), JSON.stringify(org)]]);
    const start = () => new SmartAuth(org.id, { state: { getState: (k) => state.get(k) }, now: () => clock.now, jtiFile });
    const used = await signed({});
    await start().issueToken(form(used), TOKEN_URL);
    // The node restarts within the assertion's lifetime: a replay is still a replay.
    const restarted = start();
    await assert.rejects(restarted.issueToken(form(used), TOKEN_URL), refusedAs('invalid_client'));
    assert.equal(statSync(jtiFile).mode & 0o777, 0o600);
    // Long after, the entry has expired and the next start forgets it.
    clock.now += 3_600_000;
    assert.equal(start().sizes().jti, 0);
    assert.equal(readFileSync(jtiFile, 'utf8'), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- Registered clients: least privilege (config fhir.smartClients) ----

const ACTIONS: readonly ScopeAction[] = ['c', 'r', 'u', 'd', 's'];
const TYPES = ['*', 'Patient', 'Observation', 'Claim'];
const list = (s: string) => (s === '' ? [] : s.split(' '));

/** The granted list allows exactly what both the request and the registration allow, on every type and action. */
function assertExact(requested: string[], registered: string[], granted: string[], what: string) {
  for (const s of granted) assert.equal(isSystemScope(s), true, `${what}: '${s}' is a scope the server grants`);
  for (const type of TYPES)
    for (const a of ACTIONS)
      assert.equal(
        scopeAllows(granted, type, a),
        scopeAllows(requested, type, a) && scopeAllows(registered, type, a),
        `${what}: ${a} on ${type}`,
      );
}

test('intersectScopes: a table of requests against registrations, v1 and v2, wildcard types on either side', () => {
  // [requested, registered, granted]
  const table: Array<[string, string, string]> = [
    ['system/Patient.rs', 'system/*.read', 'system/Patient.rs'],
    ['system/Patient.c', 'system/*.read', ''],
    ['system/Patient.cruds', 'system/*.read', 'system/Patient.rs'],
    ['system/*.rs', 'system/Observation.cruds', 'system/Observation.rs'],
    ['system/*.*', 'system/*.read', 'system/*.rs'],
    ['system/*.*', 'system/*.rs', 'system/*.rs'],
    ['system/*.cruds', 'system/*.*', 'system/*.cruds'],
    ['system/*.*', 'system/*.cruds', 'system/*.*'],
    ['system/*.read', 'system/*.rs', 'system/*.read'],
    ['system/*.rs', 'system/*.read', 'system/*.rs'],
    ['system/*.read', 'system/*.r', 'system/*.r'],
    ['system/*.write', 'system/*.cruds', 'system/*.write'],
    ['system/*.write', 'system/*.cu', 'system/*.cu'],
    ['system/*.write', 'system/*.read', ''],
    ['system/*.d', 'system/*.write', 'system/*.d'],
    ['system/*.s', 'system/*.write', ''],
    ['system/Observation.write', 'system/Observation.cud', 'system/Observation.write'],
    ['system/Observation.write', 'system/*.*', 'system/Observation.write'],
    ['system/Observation.*', 'system/*.rs', 'system/Observation.rs'],
    ['system/Observation.*', 'system/Observation.read system/*.c', 'system/Observation.crs'],
    ['system/Patient.read', 'system/Observation.read', ''],
    ['system/Patient.s', 'system/*.s', 'system/Patient.s'],
    // A search across types needs system/*: a per-type registration never grants it.
    ['system/*.s', 'system/Patient.s', 'system/Patient.s'],
    ['system/*.cruds', 'system/Patient.r system/Observation.rs', 'system/Patient.r system/Observation.rs'],
    ['system/Patient.cruds', 'system/*.r system/Patient.c', 'system/Patient.cr'],
    ['system/Patient.cruds', 'system/*.r system/*.s system/Patient.c', 'system/Patient.crs'],
    ['system/*.cruds', 'system/*.r system/Patient.c', 'system/*.r system/Patient.c'],
    ['system/Patient.rs', 'system/*.r system/Patient.s', 'system/Patient.rs'],
    ['system/*.rs system/Patient.c', 'system/*.read', 'system/*.rs'],
    ['system/Patient.rs system/Observation.rs', 'system/Patient.read', 'system/Patient.rs'],
    ['system/Patient.rs system/Patient.rs', 'system/*.rs', 'system/Patient.rs'],
    ['system/Patient.c system/Observation.u', 'system/*.rs', ''],
    ['system/Claim.c system/Claim.r', 'system/Claim.write', 'system/Claim.c'],
  ];
  for (const [requested, registered, granted] of table) {
    const what = `${requested} under ${registered}`;
    const got = intersectScopes(list(requested), list(registered));
    assert.deepEqual(got, list(granted), what);
    assertExact(list(requested), list(registered), got, what);
  }
});

test('intersectScopes is exact for every pair of scopes and for many random lists of them', () => {
  const perms = ['read', 'write', '*', 'c', 'r', 'u', 'd', 's', 'rs', 'cu', 'cud', 'cruds', 'ud', 'cd'];
  const pool = TYPES.filter((t) => t !== 'Claim').flatMap((t) => perms.map((p) => `system/${t}.${p}`));
  for (const a of pool) for (const b of pool) assertExact([a], [b], intersectScopes([a], [b]), `${a} under ${b}`);
  // A fixed-seed generator, so a failure names a case that repeats.
  let seed = 0x5eed;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const pick = () => Array.from({ length: 1 + next(3) }, () => pool[next(pool.length)] as string);
  for (let i = 0; i < 3000; i++) {
    const [requested, registered] = [pick(), pick()];
    const granted = intersectScopes(requested, registered);
    assertExact(requested, registered, granted, `${requested.join(' ')} under ${registered.join(' ')}`);
    // Refused (nothing granted) exactly when the registration permits nothing of the request.
    const overlap = TYPES.some((t) => ACTIONS.some((x) => scopeAllows(requested, t, x) && scopeAllows(registered, t, x)));
    assert.equal(granted.length === 0, !overlap, `${requested.join(' ')} under ${registered.join(' ')}: refused`);
  }
});

test('a registered read-only client: write is invalid_scope, system/*.* is narrowed to its reads, no scope gets its registration', async () => {
  const { auth, form, signed } = harness((orgId) => ({ clients: new Map([[orgId, ['system/*.read']]]) }));
  for (const scope of ['system/Patient.c', 'system/*.write', 'system/Observation.cud'])
    await assert.rejects(
      auth.issueToken(form(await signed({}), scope), TOKEN_URL),
      (e: unknown) =>
        refusedAs('invalid_scope')(e) && (e as OAuthError).status === 400 && /may be granted: system\/\*\.read$/.test((e as Error).message),
      scope,
    );
  const wide = await auth.issueToken(form(await signed({}), 'system/*.*'), TOKEN_URL);
  assert.equal(wide.scope, 'system/*.rs');
  const { scopes } = auth.authenticate(`Bearer ${wide.access_token}`);
  assert.deepEqual(scopes, ['system/*.rs']);
  for (const action of ['c', 'u', 'd'] as const) assert.equal(scopeAllows(scopes, 'Observation', action), false, action);
  assert.equal(scopeAllows(scopes, 'Observation', 'r'), true);
  assert.equal(scopeAllows(scopes, '*', 's'), true);
  const mixed = await auth.issueToken(form(await signed({}), 'system/Observation.rs system/Patient.c'), TOKEN_URL);
  assert.equal(mixed.scope, 'system/Observation.rs');
  assert.deepEqual(auth.authenticate(`Bearer ${mixed.access_token}`).scopes, ['system/Observation.rs']);
  const none = await auth.issueToken(form(await signed({})), TOKEN_URL);
  assert.equal(none.scope, 'system/*.read');
  assert.deepEqual(auth.authenticate(`Bearer ${none.access_token}`).scopes, ['system/*.read']);
});

test('an invalid_scope refusal uses up nothing: the same assertion then gets a token for a permitted scope', async () => {
  const { auth, form, signed } = harness((orgId) => ({ clients: new Map([[orgId, ['system/Observation.rs']]]) }));
  const assertion = await signed({});
  await assert.rejects(auth.issueToken(form(assertion, 'system/Patient.rs'), TOKEN_URL), refusedAs('invalid_scope'));
  assert.deepEqual(auth.sizes(), { tokens: 0, jti: 0 });
  assert.equal((await auth.issueToken(form(assertion, 'system/*.read'), TOKEN_URL)).scope, 'system/Observation.rs');
  await assert.rejects(auth.issueToken(form(assertion, 'system/*.read'), TOKEN_URL), refusedAs('invalid_client'), 'now it is used');
});

test('smartClientsOnly: an unlisted staff member gets invalid_client; without it, it gets what it asks for; a listed one is narrowed', async () => {
  const staffKeys = generateKeyBundle();
  for (const clientsOnly of [true, false]) {
    const { org, auth, form, signed, put } = harness((orgId) => ({ clients: new Map([[orgId, ['system/*.rs']]]), clientsOnly }));
    const staff = identityOf(staffKeys, { org: org.id });
    put(staff);
    const staffToken = async () =>
      auth.issueToken(
        form(
          await signClientAssertion({ clientId: staff.id, privateKey: staffKeys.signing.privateKey, tokenUrl: TOKEN_URL }),
          'system/*.cruds',
        ),
        TOKEN_URL,
      );
    if (clientsOnly)
      await assert.rejects(
        staffToken(),
        (e: unknown) =>
          refusedAs('invalid_client')(e) && (e as OAuthError).status === 401 && /not a registered SMART client/.test((e as Error).message),
      );
    else assert.equal((await staffToken()).scope, 'system/*.cruds');
    assert.equal((await auth.issueToken(form(await signed({}), 'system/*.cruds'), TOKEN_URL)).scope, 'system/*.rs');
  }
});

test('a registration does not make a stranger a client: an identity outside the organization is refused even when listed', async () => {
  const strangerKeys = generateKeyBundle();
  const stranger = identityOf(strangerKeys, {});
  const { auth, form, put } = harness(() => ({ clients: new Map([[stranger.id, ['system/*.rs']]]), clientsOnly: true }));
  put(stranger);
  const assertion = await signClientAssertion({ clientId: stranger.id, privateKey: strangerKeys.signing.privateKey, tokenUrl: TOKEN_URL });
  await assert.rejects(auth.issueToken(form(assertion, 'system/*.rs'), TOKEN_URL), refusedAs('invalid_client'));
});
