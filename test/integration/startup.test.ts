// Start-up failures an operator meets (issue 15): a busy port gives one line on stderr and exit code 1, an unreadable
// .env exit code 2, no stack trace.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { trackChild } from '../helpers/children.ts';
import { cleanEnv, spawnProxy } from '../helpers/spawn-proxy.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(ROOT, 'src', 'main.ts');

test('a port already in use: one line on stderr, exit code 1, no stack trace', async (t) => {
  // A real m3u-proxy holds the port, as when a second copy is started by mistake.
  const first = await spawnProxy(t, process.execPath, ['--import', 'tsx', MAIN], { cwd: ROOT });
  const child = trackChild(
    t,
    spawn(process.execPath, ['--import', 'tsx', MAIN, '--host', '127.0.0.1', '--port', String(first.port)], {
      cwd: ROOT,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  const code = await exited;

  assert.equal(code, 1);
  assert.equal(stdout, '');
  const lines = stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0] ?? '', new RegExp(`^m3u-proxy: cannot listen on 127\\.0\\.0\\.1:${first.port}: .*in use`));
  assert.doesNotMatch(stderr, /\bat .*\(|node:net|Error:/);
  // The first server is untouched.
  const res = await fetch(`${first.base}/livez`);
  assert.equal(res.status, 200);
  await res.text();
});

test('a .env that cannot be read (a directory here): one line on stderr, exit code 2, no stack trace', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'm3u-dotenv-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, '.env'));
  // Run from that directory: tsx by its resolved URL, since the directory has no node_modules of its own.
  const tsx = import.meta.resolve('tsx');
  const child = trackChild(t, spawn(process.execPath, ['--import', tsx, MAIN, '--host', '127.0.0.1', '--port', '0'], { cwd: dir, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  assert.equal(code, 2, stderr);
  assert.match(stderr, /^m3u-proxy: cannot read \.env \(EISDIR\)\n$/);
});
