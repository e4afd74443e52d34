// The architecture as a test (STYLE.md): imports point down only (http → services → core), and no module imports
// itself back through a cycle. Read from the sources, so a new file is checked the day it is added.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const SRC = resolve(import.meta.dirname, '../../src');

function listTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listTs(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.{1,2}\/[^']+)'/gms)) out.push(resolve(dirname(file), m[1]!));
  return out;
}

const files = listTs(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const layerOf = (f: string): string => relative(SRC, f).split('/')[0]!;

test('every relative import names an existing module', () => {
  for (const [f, deps] of graph) for (const d of deps) assert.ok(graph.has(d), `${relative(SRC, f)} imports missing ${relative(SRC, d)}`);
});

test('core imports nothing above it, services never import http, http never imports core/upstream', () => {
  for (const [f, deps] of graph) {
    const from = layerOf(f);
    for (const d of deps) {
      const to = relative(SRC, d);
      if (from === 'core') assert.ok(to.startsWith('core/') || to === 'errors.ts', `${relative(SRC, f)} → ${to}`);
      if (from === 'services') assert.ok(!to.startsWith('http/') && !to.startsWith('cli/') && to !== 'app.ts', `${relative(SRC, f)} → ${to}`);
      if (from === 'http') assert.ok(!to.startsWith('core/upstream/'), `${relative(SRC, f)} → ${to}`);
    }
  }
});

test('no import cycles', () => {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string): void => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') assert.fail(`cycle: ${[...stack.slice(stack.indexOf(f)), f].map((x) => relative(SRC, x)).join(' → ')}`);
    state.set(f, 'open');
    stack.push(f);
    for (const d of graph.get(f) ?? []) visit(d);
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of files) visit(f);
});
