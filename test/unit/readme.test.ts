// The README's examples are what a new user types first: the ones that can be checked without a network are checked here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

test('every curl example that sends a body says it is JSON (management bodies of any other type get 415)', () => {
  const withBody = readme.split('\n').filter((line) => /^\s*curl\b/.test(line) && /\s(-d|--data\S*)\s/.test(line));
  assert.ok(withBody.length >= 3, 'the README has curl examples with bodies');
  for (const line of withBody) assert.match(line, /-H 'Content-Type: application\/json'/, line);
});

test('the quick start is exactly two commands: one starts the proxy, one runs the whole suite', () => {
  const start = readme.indexOf('## Quick start');
  const end = readme.indexOf('\n#', start + 1);
  const commands = [...readme.slice(start, end).matchAll(/```sh\n([^\n]+)\n```/g)].map((m) => (m[1] ?? '').replace(/\s+#.*$/, ''));
  assert.deepEqual(commands, ['npm ci && npm start', 'npm ci && npm test']);
});
