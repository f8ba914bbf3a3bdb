// The API fuzzed from its own OpenAPI document (docs/api.md "The OpenAPI document"): schemathesis
// (PyPI, pinned in scripts/install-schemathesis.sh) sends schema-derived and boundary requests to
// every /v1 operation of a real node, anonymously and as a signed-in patient, and fails on any
// 5xx, any status or content type the document does not list, and any body that does not match
// the documented schema. The node holds a patient with a record and a grant, and the fuzzer's
// path ids are drawn from them often enough that the data-bearing answers are checked too.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type FuzzNode, startFuzzNode } from './testing/fuzz-fixture.js';

const VERSION = '4.32.5';
const INSTALL = 'bash scripts/install-schemathesis.sh';

/** The schemathesis binary: $MEDLEDGER_SCHEMATHESIS, else the install script's default cache. */
function schemathesisBinary(): string {
  const fromEnv = process.env.MEDLEDGER_SCHEMATHESIS;
  if (fromEnv !== undefined && fromEnv !== '') {
    assert.ok(existsSync(fromEnv), `MEDLEDGER_SCHEMATHESIS=${fromEnv} does not exist; run ${INSTALL}`);
    return fromEnv;
  }
  const cache =
    process.env.MEDLEDGER_SCHEMATHESIS_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'medledger', 'schemathesis');
  const bin = join(cache, VERSION, 'bin', 'schemathesis');
  assert.ok(
    existsSync(bin),
    `schemathesis ${VERSION} is not installed: run ${INSTALL} and export MEDLEDGER_SCHEMATHESIS=<the path it prints>`,
  );
  return bin;
}

let f: FuzzNode;
let dir = '';
type Run = Promise<{ code: number; report: string }>;
let anonymous: Run;
let signedIn: Run;
before(async () => {
  f = await startFuzzNode();
  dir = mkdtempSync(join(tmpdir(), 'medledger-fuzz-'));
  // Path ids come from the seeded data seven times in ten, so 200 answers are checked, not only refusals.
  writeFileSync(
    join(dir, 'schemathesis.toml'),
    [
      '[dictionaries.ids]',
      `values = ${JSON.stringify([f.patient, f.record, f.grant, f.clinician])}`,
      '[parameters]',
      '"path.id" = { dictionary = "ids", probability = 0.7 }',
      '',
    ].join('\n'),
  );
  // Both runs at once, one core each: the node serves them side by side.
  anonymous = fuzz([]);
  // Signing out would end the session the rest of the run uses; the anonymous run covers its refusals.
  signedIn = fuzz(['-H', `Authorization: Bearer ${f.token}`, '--exclude-name', 'DELETE /v1/auth/session']);
  // Settled here so a failing run is reported by its own test, never as an unhandled rejection.
  anonymous.catch(() => {});
  signedIn.catch(() => {});
});
after(async () => {
  await f?.t.cleanup();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

// The four the document must pass, and those that also pass honestly: schema-violating requests
// refused, undeclared methods 405, a missing or ignored session refused. Not positive_data_acceptance:
// a schema-valid cursor the list never gave is rightly refused.
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
  'response_headers_conformance',
  'negative_data_rejection',
  'unsupported_method',
  'missing_required_header',
  'ignored_auth',
].join(',');

/** Run schemathesis against the node; resolves with its exit code and report (it runs beside the in-process node). */
function fuzz(extra: string[]): Promise<{ code: number; report: string }> {
  const args = [
    '--config-file',
    join(dir, 'schemathesis.toml'),
    'run',
    `${f.t.url}/v1/openapi.json`,
    '--checks',
    CHECKS,
    '--seed',
    '20261206',
    '--max-examples',
    '5',
    // Coverage (boundary and invalid values of every parameter) and fuzzing; the stateful phase
    // would triple the time for links this document does not declare.
    '--phases',
    'coverage,fuzzing',
    // One worker: hypothesis's lambda descriptions race in CPython's ast module across threads
    // (a spurious "AST constructor recursion depth mismatch"). The two runs go side by side instead.
    '--workers',
    '1',
    '--no-color',
    ...extra,
  ];
  return new Promise((resolve, reject) => {
    execFile(schemathesisBinary(), args, { cwd: dir, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 }, (err, stdout, stderr) => {
      if (err !== null && typeof err.code !== 'number') return reject(err);
      resolve({ code: err === null ? 0 : (err.code as number), report: `${stdout}${stderr}` });
    });
  });
}

test('schemathesis finds no failure anonymously: no 5xx, every status, content type and body as documented', {
  timeout: 600_000,
}, async () => {
  const { code, report } = await anonymous;
  assert.equal(code, 0, report);
});

test('schemathesis finds no failure as a signed-in patient with a record and a grant', { timeout: 600_000 }, async () => {
  const { code, report } = await signedIn;
  assert.equal(code, 0, report);
  // The session still works: the run tested the data, not a string of 401s.
  const res = await fetch(`${f.t.url}/v1/patients/${f.patient}/records`, { headers: { authorization: `Bearer ${f.token}` } });
  assert.equal(res.status, 200);
});
