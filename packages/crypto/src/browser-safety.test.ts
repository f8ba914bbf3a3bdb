// The browser entry must load in a browser: nothing in its module graph may import a Node
// built-in or use Buffer. This walks the graph from browser.ts through relative imports.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const NODE_BUILTINS = new Set(builtinModules);
// The sources, whether this runs from src/ (tsx) or from a compiled copy in dist/.
const SRC = new URL('../src/', import.meta.url);
const IMPORT_RE = /^\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm;

function importsOf(file: string): string[] {
  const source = readFileSync(fileURLToPath(new URL(file, SRC)), 'utf8');
  return [...source.matchAll(IMPORT_RE)].map((m) => (m[1] ?? m[2]) as string);
}

function browserGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const pending = ['./browser.ts'];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (graph.has(file)) continue;
    const deps = importsOf(file);
    graph.set(file, deps);
    for (const d of deps) if (d.startsWith('./')) pending.push(d.replace(/\.js$/, '.ts'));
  }
  return graph;
}

test('the browser entry imports no Node built-in, anywhere in its module graph', () => {
  const graph = browserGraph();
  assert.ok(graph.has('./browser-envelope.ts') && graph.has('./keystore-format.ts'), 'the walk reaches the modules it should');
  for (const [file, deps] of graph) {
    for (const d of deps) {
      assert.ok(!d.startsWith('node:') && !NODE_BUILTINS.has(d), `${file} imports ${d}`);
      assert.ok(d.startsWith('./') || d.startsWith('@noble/'), `${file} imports ${d}, which is not known to be browser-safe`);
    }
  }
});

test('no module of the browser entry uses Buffer or imports the Node-only helpers', () => {
  for (const [file, deps] of browserGraph()) {
    const source = readFileSync(fileURLToPath(new URL(file, SRC)), 'utf8');
    assert.ok(!/\bBuffer\b/.test(source.replace(/\/\/.*$/gm, '')), `${file} uses Buffer`);
    for (const nodeOnly of ['./bytes.js', './hash.js', './ed25519.js', './x25519.js', './envelope.js', './keystore.js', './index.js']) {
      assert.ok(!deps.includes(nodeOnly), `${file} imports ${nodeOnly}`);
    }
  }
});
