// The README and docs/ are what a new user reads first: what can be checked without a network is checked here
// (test/integration/readme-commands.test.ts runs their shell blocks).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseServerArgs } from '../../src/config.ts';
import { docFiles, REPO_ROOT } from '../helpers/doc-blocks.ts';

const docs = docFiles();
const readme = docs.find((d) => d.name === 'README.md')?.text ?? '';
const api = docs.find((d) => d.name === 'docs/api.md')?.text ?? '';

/** The lines of the first table after `heading`. */
function tableAfter(text: string, heading: string): string[] {
  const start = text.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `missing section ${heading}`);
  const lines = text.slice(start).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rows = lines.slice(first);
  const end = rows.findIndex((l) => !l.startsWith('|'));
  return rows.slice(2, end < 0 ? undefined : end);
}

function cells(row: string): string[] {
  return row.split('|').slice(1, -1).map((c) => c.trim());
}

test('every curl example that sends a body says it is JSON (management bodies of any other type get 415)', () => {
  const withBody = docs.flatMap((d) => d.text.split('\n')).filter((line) => /^\s*curl\b/.test(line) && /\s(-d|--data\S*)\s/.test(line));
  assert.ok(withBody.length >= 3, 'the README and docs have curl examples with bodies');
  for (const line of withBody) assert.match(line, /-H 'Content-Type: application\/json'/, line);
});

test('the quick start is exactly two commands: one starts the proxy, one runs the whole suite', () => {
  const start = readme.indexOf('## Quick start');
  const end = readme.indexOf('\n#', start + 1);
  const commands = [...readme.slice(start, end).matchAll(/```sh\n([^\n]+)\n```/g)].map((m) => (m[1] ?? '').replace(/\s+#.*$/, ''));
  assert.deepEqual(commands, ['npm ci && npm start', 'npm ci && npm test']);
});

test('the README stays short enough to read in five minutes', () => {
  assert.ok(readme.split('\n').length <= 260, `README.md has ${readme.split('\n').length} lines`);
});

test('the README settings table has exactly the settings of --help, with their flags and defaults', () => {
  const help = parseServerArgs(['--help'], {});
  assert.equal(help.kind, 'help');
  const settings = help.text
    .split('\n')
    .map((l) => /^ {2}(--[a-z-]+ V)?\s+([A-Z][A-Z0-9_]*(?:, [A-Z][A-Z0-9_]*)*)\s{2,}(\S+(?: \S+)?)\s{2,}/.exec(l))
    .filter((m) => m !== null)
    .map((m) => ({ flag: m[1]?.replace(/ V$/, ''), env: (m[2] ?? '').split(', '), def: m[3] ?? '' }));
  assert.ok(settings.length >= 25, `read ${settings.length} settings from --help`);
  const rows = tableAfter(readme, '## Settings').map(cells);
  const named = (row: string[]) => [...(row[0] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]);
  for (const s of settings) {
    const row = rows.find((r) => s.env.some((e) => named(r).includes(e)));
    assert.ok(row, `${s.env.join('/')} is missing from the README settings table`);
    for (const e of s.env) assert.ok(named(row).includes(e), `${e} belongs in the row of ${s.env.join('/')}`);
    if (s.flag !== undefined) assert.ok((row[1] ?? '').includes(`\`${s.flag}\``), `${s.env[0]}: flag ${s.flag}`);
    assert.ok((row[2] ?? '').includes(s.def), `${s.env[0]}: default '${s.def}' in '${row[2]}'`);
  }
  const known = new Set(settings.flatMap((s) => s.env));
  for (const row of rows) for (const e of named(row)) assert.ok(known.has(e as string), `the README documents ${e}, which is no setting`);
});

/** Every `method: 'X', path: '/p'` route of src/http/routes, with loops of literal paths (the 501 features) as prefixes. */
function sourceRoutes(): { method: string; path: string }[] {
  const dir = join(REPO_ROOT, 'src/http/routes');
  const routes: { method: string; path: string }[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    const source = readFileSync(join(dir, name), 'utf8');
    for (const m of source.matchAll(/method: '([A-Z]+)',\s*path: '([^']+)'/g)) routes.push({ method: m[1] ?? '', path: m[2] ?? '' });
    for (const m of source.matchAll(/for \(const path of \[([^\]]+)\]\)/g)) {
      for (const p of (m[1] ?? '').matchAll(/'([^']+)'/g)) routes.push({ method: '*', path: p[1] ?? '' });
    }
  }
  return routes;
}

/** `/streams/:id` → a pattern for `/streams/{id}` (any name in braces). */
function routePattern(path: string): RegExp {
  return new RegExp('^' + path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z]+/g, '\\{[a-z_]+\\}') + '$');
}

/** A documented path names the route: the same path, or `/x/*` for every path under /x. */
function names(documentedPath: string, routePath: string): boolean {
  if (documentedPath.endsWith('/*')) return (routePath + '/').startsWith(documentedPath.slice(0, -1));
  return routePattern(routePath).test(documentedPath);
}

function backticked(cell: string | undefined): string[] {
  return [...(cell ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');
}

test('docs/api.md lists every route of the server, and only those', () => {
  const routes = sourceRoutes();
  assert.ok(routes.length >= 35, `read ${routes.length} routes from src/http/routes`);
  const rows = tableAfter(api, '## Routes').map(cells);
  for (const route of routes) {
    const row = rows.find((r) => backticked(r[1]).some((p) => names(p, route.path)) && (route.method === '*' ? backticked(r[0]).length >= 5 : backticked(r[0]).includes(route.method)));
    assert.ok(row, `docs/api.md: ${route.method} ${route.path} is not in the routes table`);
  }
  for (const row of rows) {
    for (const p of backticked(row[1])) assert.ok(routes.some((r) => names(p, r.path)), `docs/api.md documents ${p}, which is no route`);
  }
});

test('every docs/ file is linked from the README, and every relative link of the README and docs/ resolves', () => {
  for (const doc of docs.filter((d) => d.name.startsWith('docs/'))) assert.ok(readme.includes(`](${doc.name})`), `README.md does not link ${doc.name}`);
  const names = new Set(docs.map((d) => d.name));
  for (const doc of docs) {
    for (const m of doc.text.matchAll(/\]\(([^)#\s]+\.md)(#[^)]*)?\)/g)) {
      const target = m[1] ?? '';
      if (/^[a-z]+:/.test(target)) continue;
      const resolved = join(doc.name.startsWith('docs/') ? 'docs' : '.', target).replace(/^\.\//, '');
      assert.ok(names.has(resolved), `${doc.name}: link to ${target} does not resolve`);
    }
  }
});
