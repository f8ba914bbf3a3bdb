// docs/cli.md: "With --json a command prints exactly one JSON document on stdout — its result,
// or {"error": {"code", "message"}} when it fails". Usage errors that the option parser finds
// (a missing required option, an unknown option or command) keep that promise too, exit 2.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from './testing/cli.js';

test('usage errors print one JSON error document on stdout with --json, and exit 2', async () => {
  const cases: Array<{ args: string[]; mentions: RegExp }> = [
    { args: ['record', 'get', '--key', 'x.key', '--json'], mentions: /--id/ },
    { args: ['record', 'list', '--key', 'x.key', '--bogus', '--json'], mentions: /--bogus/ },
    { args: ['bogus', '--json'], mentions: /bogus/ },
  ];
  for (const { args, mentions } of cases) {
    const run = await runCli(args, { env: { MEDLEDGER_URL: 'http://127.0.0.1:9' } });
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    const doc = JSON.parse(run.stdout) as { error: { code: string; message: string } };
    assert.equal(doc.error.code, 'USAGE', run.stdout);
    assert.match(doc.error.message, mentions);
    assert.doesNotMatch(doc.error.message, /^error: /, 'the message is the text, without the terminal prefix');
    assert.match(run.stderr, mentions, 'stderr still explains it');
  }
});

test('without --json a usage error prints nothing on stdout; --help still exits 0', async () => {
  const run = await runCli(['record', 'get', '--key', 'x.key']);
  assert.equal(run.code, 2);
  assert.equal(run.stdout, '');
  const help = await runCli(['record', 'get', '--help', '--json']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: medledger record get/);
});
