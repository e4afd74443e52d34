// SPEC §15, issue 24.1: a log destination whose reader is gone (`m3u-proxy 2>&1 | head -n 1`) must not spin the
// process. The failed write was an uncaught EPIPE, logged, failing again: ~100 % CPU for good, SIGTERM ignored.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { cleanEnv, spawnProxy } from '../helpers/spawn-proxy.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(ROOT, 'src', 'main.ts');

/** User plus system CPU of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

test('§15 with its log reader gone the proxy drops log lines, keeps serving, stays idle and exits on SIGTERM', async (t) => {
  const proxy = await spawnProxy(t, process.execPath, ['--import', 'tsx', MAIN], { cwd: ROOT, env: cleanEnv({ LOG_LEVEL: 'debug' }) });
  // The reader exits: the pipe's read end closes, every later log write fails with EPIPE.
  proxy.child.stderr?.destroy();
  for (let i = 0; i < 20; i++) {
    const res = await fetch(`${proxy.base}/livez`);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  }
  const metrics = await (await fetch(`${proxy.base}/metrics`)).text();
  const dropped = Number(/^m3u_proxy_log_writes_dropped_total (\d+)/m.exec(metrics)?.[1]);
  assert.ok(dropped >= 20, `dropped log lines counted (${dropped})`);
  const pid = proxy.child.pid ?? 0;
  await sleep(300);
  const before = cpuTicks(pid);
  await sleep(1000);
  const used = cpuTicks(pid) - before;
  // A spinning process burns ~100 ticks a second; an idle one a few.
  assert.ok(used < 40, `the idle proxy used ${used} clock ticks of CPU in a second`);
  proxy.child.kill('SIGTERM');
  const exit = await proxy.exited;
  assert.equal(exit.code, 0);
});
