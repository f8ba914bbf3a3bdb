// The namespace lab (testing/netns.ts) removes what it made even when the test process is
// stopped by a signal, as a CI timeout stops it. Skipped, with the reason, only where the
// kernel forbids namespaces; needs root.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { netnsUnavailable } from './testing/netns.js';

const unavailable = netnsUnavailable();
if (unavailable !== undefined) console.log(`# namespace lab tests skipped: ${unavailable}`);
const skip = unavailable ?? false;
const LAB = fileURLToPath(new URL('./testing/netns.ts', import.meta.url));

for (const signal of ['SIGTERM', 'SIGINT'] as const)
  test(`a test process stopped by ${signal} leaves no namespace, veth or bridge behind`, { skip }, async () => {
    // A child makes a lab, says its names, and waits to be stopped.
    const script = `import { NetnsLab } from ${JSON.stringify(LAB)};
const lab = NetnsLab.create(2);
console.log(JSON.stringify({ ns: lab.hosts.map((h) => h.ns), links: lab.hosts.map((h) => h.link) }));
setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const made = await new Promise<{ ns: string[]; links: string[] }>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += String(c);
        const line = out.split('\n')[0] as string;
        if (out.includes('\n')) resolve(JSON.parse(line));
      });
      child.once('exit', (code) => reject(new Error(`the lab process exited (${code}) before making its lab`)));
    });
    assert.ok(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).includes(made.ns[0] as string), 'the lab was made');
    const ended = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, sig) => resolve(sig)));
    child.kill(signal);
    assert.equal(await ended, signal, 'the process still dies of the signal');
    const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    const links = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' });
    for (const ns of made.ns) assert.ok(!netns.includes(ns), `${ns} removed`);
    for (const link of made.links) assert.ok(!links.includes(`${link}@`) && !links.includes(`${link}:`), `${link} removed`);
  });
