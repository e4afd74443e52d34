// core/process: spawning without a shell, stderr lines, group stop with SIGKILL fallback, the child set, probes, masking.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnChild } from '../../src/core/process/child.ts';
import { ChildSet } from '../../src/core/process/child-set.ts';
import { maskUrls } from '../../src/core/process/mask.ts';
import { probeProgram } from '../../src/core/process/program.ts';
import { alive } from '../helpers/fake-program.ts';

const NODE = process.execPath;

test('stderr is split on CR and LF, the last lines are kept, stdout is piped, the exit code is reported', async () => {
  const seen: string[] = [];
  const script = "process.stderr.write('a\\rb\\r\\nc\\n\\nlast'); process.stdout.write('out'); process.exitCode = 3";
  const child = spawnChild({ command: NODE, args: ['-e', script], stdout: 'pipe', keepLines: 2, onStderrLine: (l) => seen.push(l) });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  const exit = await child.exited;
  assert.deepEqual(exit, { code: 3, signal: null });
  assert.deepEqual(seen, ['a', 'b', 'c', 'last']);
  assert.deepEqual(child.lastLines(), ['c', 'last']);
  assert.equal(out, 'out');
  assert.equal(child.running, false);
});

test('a missing program is a spawnError ENOENT, never a throw', async () => {
  const child = spawnChild({ command: '/nonexistent/ffmpeg', args: [], stdout: 'ignore' });
  assert.equal(child.pid, undefined);
  const exit = await child.exited;
  assert.equal(exit.spawnError?.code, 'ENOENT');
  assert.equal(child.running, false);
  await child.stop(); // idempotent, no signal to send
});

test('no shell: arguments with shell syntax reach the program as they are', async () => {
  const child = spawnChild({ command: NODE, args: ['-e', 'process.stderr.write(process.argv[1])', '$(echo hi); `x` | y'], stdout: 'ignore' });
  await child.exited;
  assert.deepEqual(child.lastLines(), ['$(echo hi); `x` | y']);
});

test('stop() signals the whole group: a grandchild goes too', async () => {
  // The child starts a grandchild that would outlive it, prints its pid, and waits.
  const script = `const g = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    process.stderr.write('grandchild ' + g.pid + '\\n'); setInterval(() => {}, 1000);`;
  let grandchild = 0;
  const child = spawnChild({ command: NODE, args: ['-e', script], stdout: 'ignore', onStderrLine: (l) => (grandchild = Number(l.split(' ')[1])) });
  while (grandchild === 0) await new Promise((r) => setTimeout(r, 20));
  assert.equal(alive(grandchild), true);
  const exit = await child.stop();
  assert.equal(exit.signal, 'SIGTERM');
  for (let i = 0; i < 100 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(alive(grandchild), false, 'the grandchild was stopped with its group');
});

test('a child that ignores SIGTERM is killed after the grace', async () => {
  const script = "process.on('SIGTERM', () => {}); process.stderr.write('ready\\n'); setInterval(() => {}, 1000)";
  let ready = false;
  const child = spawnChild({ command: NODE, args: ['-e', script], stdout: 'ignore', onStderrLine: () => (ready = true) });
  while (!ready) await new Promise((r) => setTimeout(r, 20));
  const exit = await child.stop(200);
  assert.equal(exit.signal, 'SIGKILL');
});

test('a child blocked writing to a stdout nobody reads still ends on SIGTERM, as FFmpeg does, not at the SIGKILL', async () => {
  // Like FFmpeg: SIGTERM sets a flag, checked between writes; a write blocked on a full pipe holds it off.
  const script = "let stop = false; process.on('SIGTERM', () => (stop = true)); const b = Buffer.alloc(65536); const w = () => { if (stop) process.exit(0); require('fs').writeSync(1, b); setImmediate(w); }; w();";
  const child = spawnChild({ command: NODE, args: ['-e', script], stdout: 'pipe' });
  child.stdout?.pause();
  await new Promise((resolve) => setTimeout(resolve, 300)); // the pipe fills
  const exit = await child.stop(10_000);
  assert.deepEqual(exit, { code: 0, signal: null }, 'it exited by itself, not by the SIGKILL after the grace');
});

test('ChildSet tracks running children and stopAll ends them all', async () => {
  const set = new ChildSet();
  const a = set.add(spawnChild({ command: NODE, args: ['-e', 'setInterval(() => {}, 1000)'], stdout: 'ignore' }));
  set.add(spawnChild({ command: NODE, args: ['-e', 'setInterval(() => {}, 1000)'], stdout: 'ignore' }));
  const quick = set.add(spawnChild({ command: NODE, args: ['-e', ''], stdout: 'ignore' }));
  await quick.exited;
  await new Promise((r) => setImmediate(r));
  assert.equal(set.size, 2);
  await set.stopAll(1000);
  assert.equal(a.running, false);
  assert.equal(set.size, 0);
});

test('probeProgram: the version line of a program, a reason for a missing one', async () => {
  const node = await probeProgram(NODE, ['--version']);
  assert.equal(node.found, true);
  assert.match(node.found ? node.version : '', /^v\d+\./);
  const missing = await probeProgram('/nonexistent/streamlink', ['--version']);
  assert.deepEqual(missing, { found: false, path: '/nonexistent/streamlink', reason: 'not found' });
  const slow = await probeProgram(NODE, ['-e', 'setInterval(() => {}, 1000)'], 100);
  assert.equal(slow.found, false);
});

test('maskUrls hides every URL with its credentials', () => {
  assert.equal(
    maskUrls("[http @ 0x1] HTTP error 403 Forbidden for 'http://prov:8080/live/user/pass/1.ts' and rtmp://a/b?k=v"),
    "[http @ 0x1] HTTP error 403 Forbidden for '<url>' and <url>",
  );
  assert.equal(maskUrls('Server returned 404 Not Found', '<input>'), 'Server returned 404 Not Found');
});
