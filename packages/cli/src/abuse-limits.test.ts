// Issue 12 items 5 and 10 on real nodes over HTTP: a challenge flood locks nobody out,
// sessions are swept and capped per key, the default rate limit is a real limit, the FHIR
// jti table is bounded, and node homes are private (0700/0600) or refused.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { authSignBytes, MedLedgerClient, TrustedGenesis } from '@medledger/client';
import { generateKeyBundle, idFromPublicKey, signEd25519 } from '@medledger/crypto';
import {
  DEFAULT_RATE_LIMIT,
  HOME_FILES,
  initNetwork,
  loadHome,
  MAX_SESSIONS_PER_KEY,
  MedLedgerNode,
  type NodeConfig,
  readOrgKey,
  SmartAuth,
  signClientAssertion,
} from '@medledger/node';
import { TEST_PASSPHRASE } from '@medledger/node/testing';
import { startNodeProcess } from './network.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-abuse-'));
const running: MedLedgerNode[] = [];
after(async () => {
  for (const n of running) await n.stop();
  rmSync(dir, { recursive: true, force: true });
});

let count = 0;
async function startNode(edit: (c: NodeConfig) => void = () => {}) {
  const { homes } = initNetwork({ validators: 1, out: join(dir, `net${count++}`), chainId: 'abuse-test' });
  const home = loadHome(homes[0] as string);
  home.config.api.port = 0;
  home.config.p2p.port = 0;
  home.config.consensus.blockIntervalMs = 20;
  edit(home.config);
  const node = new MedLedgerNode(home, { logger: () => {} });
  const url = await node.start();
  running.push(node);
  return { node, url, home: homes[0] as string };
}

const postJson = async (url: string, body: unknown) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> & { error?: { code: string } } };
};

/** Sign in by hand: challenge, signature, session. Returns the raw answers. */
async function signInRaw(url: string, node: MedLedgerNode, keys: { publicKey: string; privateKey: string }, challenge?: string) {
  const c = challenge ?? ((await postJson(`${url}/v1/auth/challenge`, { publicKey: keys.publicKey })).json.challenge as string);
  const signature = signEd25519(
    keys.privateKey,
    authSignBytes({ chainId: node.chain.chainId, node: node.publicKey, challenge: c, publicKey: keys.publicKey }),
  );
  return { challenge: c, answer: await postJson(`${url}/v1/auth/session`, { publicKey: keys.publicKey, challenge: c, signature }) };
}

test('challenge flood: 10,050 anonymous challenge requests, then a registered patient signs in at once', async () => {
  // The per-IP rate limit is raised so the flood reaches the gatekeeper: the attack is on the
  // challenge table, which today fills at 10,000 and locks everyone out for a minute.
  const { url, node } = await startNode((c) => {
    c.rateLimit = { windowMs: 10_000, perIdentity: 100_000, perIp: 100_000 };
  });
  const patient = new MedLedgerClient({
    url,
    keys: generateKeyBundle(),
    pollIntervalMs: 20,
    genesis: TrustedGenesis.fromDocument(node.chain.genesis),
  });
  await patient.registerPatient();
  let next = 0;
  const refused: number[] = [];
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < 10_050) {
        next++;
        const res = await postJson(`${url}/v1/auth/challenge`, { publicKey: randomBytes(32).toString('hex') });
        if (res.status !== 200) refused.push(res.status);
      }
    }),
  );
  assert.deepEqual(refused, [], 'no challenge request is refused: nothing is stored per challenge');
  const session = await patient.signIn();
  assert.match(session.token, /^[0-9a-f]{64}$/);
  await patient.listRecords(patient.id);
  assert.equal(node.gatekeeper.sizes().usedChallenges, 1, 'only the answered challenge is remembered');
});

test('challenge replay and forgery: a challenge opens one session, for its own key, only if this node issued it', async () => {
  const { url, node } = await startNode();
  const a = new MedLedgerClient({
    url,
    keys: generateKeyBundle(),
    pollIntervalMs: 20,
    genesis: TrustedGenesis.fromDocument(node.chain.genesis),
  });
  const b = new MedLedgerClient({
    url,
    keys: generateKeyBundle(),
    pollIntervalMs: 20,
    genesis: TrustedGenesis.fromDocument(node.chain.genesis),
  });
  await a.registerPatient();
  await b.registerPatient();
  const keysA = a.keys.signing;
  const keysB = b.keys.signing;
  const first = await signInRaw(url, node, keysA);
  assert.equal(first.answer.status, 200);
  const replay = await signInRaw(url, node, keysA, first.challenge);
  assert.equal(replay.answer.status, 401, 'a used challenge is refused');
  assert.equal(replay.answer.json.error?.code, 'AUTH_FAILED');
  const forB = (await postJson(`${url}/v1/auth/challenge`, { publicKey: keysA.publicKey })).json.challenge as string;
  const stolen = await signInRaw(url, node, keysB, forB);
  assert.equal(stolen.answer.json.error?.code, 'AUTH_FAILED', 'a challenge issued to another key is refused');
  const forged = `${'00'.repeat(8)}${forB.slice(16)}`;
  assert.equal((await signInRaw(url, node, keysA, forged)).answer.json.error?.code, 'AUTH_FAILED', 'an altered challenge is refused');
  const fresh = await signInRaw(url, node, keysA);
  assert.equal(fresh.answer.status, 200);

  // Signed answers from keys that are no identity get no session, and are remembered too.
  const strangers = Array.from({ length: 50 }, () => generateKeyBundle().signing);
  const answers = await Promise.all(strangers.map((k) => signInRaw(url, node, k)));
  for (const { answer } of answers) assert.equal(answer.json.error?.code, 'UNKNOWN_IDENTITY');
  const again = await signInRaw(url, node, strangers[0] as { publicKey: string; privateKey: string }, answers[0]?.challenge);
  assert.equal(again.answer.json.error?.code, 'AUTH_FAILED', 'replaying a stranger answer is refused');
  assert.equal((await signInRaw(url, node, keysB)).answer.status, 200, 'and nobody else is affected');
});

test('session cap: one key holds at most MAX_SESSIONS_PER_KEY sessions; the least recently used ends first', async () => {
  const { url, node } = await startNode();
  const p = new MedLedgerClient({
    url,
    keys: generateKeyBundle(),
    pollIntervalMs: 20,
    genesis: TrustedGenesis.fromDocument(node.chain.genesis),
  });
  await p.registerPatient();
  const tokens: string[] = [];
  for (let i = 0; i < MAX_SESSIONS_PER_KEY + 5; i++) {
    const { answer } = await signInRaw(url, node, p.keys.signing);
    assert.equal(answer.status, 200);
    tokens.push(answer.json.token as string);
  }
  assert.equal(node.gatekeeper.sizes().sessions, MAX_SESSIONS_PER_KEY, 'the oldest sessions of the key were ended');
  const status = async (token: string) =>
    (await fetch(`${url}/v1/patients/${p.id}/records`, { headers: { authorization: `Bearer ${token}` } })).status;
  assert.equal(await status(tokens[0] as string), 401, 'the least recently used session is gone');
  assert.equal(await status(tokens.at(-1) as string), 200);
});

test('sessions swept: expired sessions leave the table on a timer, without any request', async () => {
  const { url, node } = await startNode((c) => {
    c.sessions = { idleTimeoutMs: 1_000, maxLifetimeMs: 60_000 };
  });
  const p = new MedLedgerClient({
    url,
    keys: generateKeyBundle(),
    pollIntervalMs: 20,
    genesis: TrustedGenesis.fromDocument(node.chain.genesis),
  });
  await p.registerPatient();
  await Promise.all(Array.from({ length: 5 }, () => signInRaw(url, node, p.keys.signing)));
  assert.ok(node.gatekeeper.sizes().sessions > 0);
  // Nobody uses them now: the sweep (every idle timeout) empties the table.
  const deadline = Date.now() + 5_000;
  while (node.gatekeeper.sizes().sessions > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal(node.gatekeeper.sizes().sessions, 0);
});

test('default rate limit applies: a node without rateLimit config counts every caller against DEFAULT_RATE_LIMIT', async () => {
  const { url, node } = await startNode();
  assert.ok(DEFAULT_RATE_LIMIT.perIp <= 3_000 && DEFAULT_RATE_LIMIT.perIdentity <= 5_000, 'defaults a deployment can keep');
  // Exhausting the budget itself is api-limits.test.ts (with a small configured limit): here
  // the node's own headers show which budget an unconfigured node applies, and that it is spent.
  const first = await fetch(`${url}/v1/status`);
  assert.equal(Number(first.headers.get('x-ratelimit-limit')), DEFAULT_RATE_LIMIT.perIp);
  const remaining = Number(first.headers.get('x-ratelimit-remaining'));
  for (let i = 0; i < 20; i++) await fetch(`${url}/v1/status`);
  const later = await fetch(`${url}/v1/status`);
  assert.ok(Number(later.headers.get('x-ratelimit-remaining')) <= remaining - 21, 'each request spends the budget');
  const p = new MedLedgerClient({
    url,
    keys: generateKeyBundle(),
    pollIntervalMs: 20,
    genesis: TrustedGenesis.fromDocument(node.chain.genesis),
  });
  await p.registerPatient();
  const { token } = await p.signIn();
  const signedIn = await fetch(`${url}/v1/patients/${p.id}/records`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(signedIn.status, 200);
  assert.equal(Number(signedIn.headers.get('x-ratelimit-limit')), DEFAULT_RATE_LIMIT.perIdentity);
});

test('jti flood: the FHIR token and jti tables are bounded, and a full table refuses (503) without forgetting used jtis', async () => {
  const { node, home } = await startNode();
  let now = node.now();
  const org = readOrgKey(home);
  const orgId = idFromPublicKey(org.signing.publicKey);
  const auth = new SmartAuth(orgId, { state: node.chain.state, now: () => now, limits: { maxTokens: 1_000, maxJti: 20 } });
  const tokenUrl = 'https://fhir.example/auth/token';
  const form = (assertion: string) => ({
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
  });
  const assertions: string[] = [];
  for (let i = 0; i < 21; i++)
    assertions.push(await signClientAssertion({ clientId: orgId, privateKey: org.signing.privateKey, tokenUrl, now, lifetimeS: 60 }));
  for (let i = 0; i < 20; i++) await auth.issueToken(form(assertions[i] as string), tokenUrl);
  assert.deepEqual(auth.sizes(), { tokens: 20, jti: 20 });
  await assert.rejects(auth.issueToken(form(assertions[20] as string), tokenUrl), (e: { error: string; status: number }) => {
    return e.error === 'temporarily_unavailable' && e.status === 503;
  });
  // Full, yet a replay is still a replay, not a new entry.
  await assert.rejects(auth.issueToken(form(assertions[0] as string), tokenUrl), (e: { error: string }) => e.error === 'invalid_client');
  assert.equal(auth.sizes().jti, 20);
  // Once the assertions have expired, the sweep makes room.
  now += 400_000; // past the assertions (60 s) and the tokens (300 s)
  const later = await signClientAssertion({ clientId: orgId, privateKey: org.signing.privateKey, tokenUrl, now, lifetimeS: 60 });
  await auth.issueToken(form(later), tokenUrl);
  assert.deepEqual(auth.sizes(), { tokens: 1, jti: 1 });
});

test('home permissions: init writes 0700 directories and 0600 files, the chain database is 0600, and an open home is refused', async () => {
  const { node, home } = await startNode();
  const mode = (p: string) => statSync(p).mode & 0o777;
  assert.equal(mode(home), 0o700);
  assert.equal(mode(join(home, 'data')), 0o700);
  for (const f of [HOME_FILES.config, HOME_FILES.genesis, HOME_FILES.nodeKey, HOME_FILES.orgKey])
    assert.equal(mode(join(home, f)), 0o600, f);
  const db = join(home, HOME_FILES.db);
  for (const f of [db, `${db}-wal`, `${db}-shm`]) if (existsSync(f)) assert.equal(mode(f), 0o600, f);
  assert.ok(existsSync(`${db}-wal`), 'the WAL exists while the node runs (and was checked above)');
  await node.stop();
  running.splice(running.indexOf(node), 1);

  chmodSync(home, 0o755);
  assert.throws(
    () => loadHome(home),
    (e: Error & { code?: string }) => e.code === 'HOME_PERMISSIONS' && e.message.includes(`chmod -R go-rwx ${home}`),
  );
  // The `medledger node` process refuses too, saying what to run.
  await assert.rejects(startNodeProcess(home), /refusing to start: .* has mode 0755.*chmod -R go-rwx/s);
  chmodSync(home, 0o700);
  chmodSync(db, 0o664);
  assert.throws(() => loadHome(home), /chain\.db has mode 0664.*chmod -R go-rwx/);
  chmodSync(db, 0o600);
  assert.equal(loadHome(home).dir, home);
});
