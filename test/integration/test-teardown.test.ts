// Issue 24 item 4: a test whose teardown fails must still stop the proxy it started. A fixture test file, run by a
// real `node --test`, starts proxies and registers an after-hook that throws before spawnProxy's kill hook (node:test
// then skips the later hooks): the temp-dir hook and the exit net of test/helpers/children.ts must still end them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tempDir, trackChild } from '../helpers/children.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const helper = (name: string): string => JSON.stringify(pathToFileURL(join(ROOT, 'test', 'helpers', name)).href);

function fixture(pidDir: string): string {
  return `
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from ${helper('children.ts')};
import { cleanEnv, spawnProxy } from ${helper('spawn-proxy.ts')};
const MAIN = ${JSON.stringify(join(ROOT, 'src', 'main.ts'))};
const start = (t, env) => spawnProxy(t, process.execPath, ['--import', 'tsx', MAIN], { cwd: ${JSON.stringify(ROOT)}, env: cleanEnv(env) });

test('a data dir, a failing hook, then a proxy writing into the dir', async (t) => {
  const dir = await tempDir(t, 'm3u-teardown-');
  t.after(() => { throw new Error('an after-hook that fails'); });
  const p = await start(t, { STATE_FILE: join(dir, 'state.json') });
  writeFileSync(join(${JSON.stringify(pidDir)}, 'with-dir'), String(p.child.pid));
});

test('a failing hook, then a proxy, no temp dir', async (t) => {
  t.after(() => { throw new Error('an after-hook that fails'); });
  const p = await start(t, {});
  writeFileSync(join(${JSON.stringify(pidDir)}, 'bare'), String(p.child.pid));
});
`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // ESRCH: gone; EPERM would mean a reused pid of another user, which counts as gone for us.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH' && (err as NodeJS.ErrnoException).code !== 'EPERM';
  }
}

test('no proxy outlives a test whose after-hooks fail', async (t) => {
  const dir = await tempDir(t, 'm3u-teardown-outer-');
  const file = join(dir, 'fixture.test.ts');
  await writeFile(file, fixture(dir));
  // Without NODE_TEST_CONTEXT the child is a runner of its own, not a subtest of ours.
  const env = { ...process.env };
  delete env['NODE_TEST_CONTEXT'];
  const runner = trackChild(t, spawn(process.execPath, ['--import', 'tsx', '--test', file], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }));
  let output = '';
  runner.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
  runner.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
  const pids: number[] = [];
  t.after(() => {
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  // A proxy left running holds the fixture's runner open through its pipes: that, too, is the failure looked for.
  const limit = setTimeout(() => runner.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => runner.once('exit', (c) => resolve(c)));
  clearTimeout(limit);
  for (const name of ['with-dir', 'bare']) pids.push(Number(await readFile(join(dir, name), 'utf8')));
  assert.notEqual(code, null, `the fixture's run did not end within 60 s: a child it started kept it open:\n${output}`);
  assert.notEqual(code, 0, `the fixture's hooks throw, so its run fails:\n${output}`);
  // SIGKILL was sent before the runner exited; give the kernel a moment to reap.
  for (let i = 0; i < 50 && pids.some(alive); i++) await sleep(100);
  assert.deepEqual(pids.filter(alive), [], `proxies still running after their test file ended:\n${output}`);
});
