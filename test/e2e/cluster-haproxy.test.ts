// SPEC §16 routing through the shipped deploy/cluster/haproxy.cfg (its bind and server addresses pointed at loopback
// ports, nothing else changed): the same scenario as the nginx sample's (test/helpers/cluster-front.ts).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { frontScenario, startFrontCluster } from '../helpers/cluster-front.ts';
import { tempDir, trackChild } from '../helpers/children.ts';
import { REPO_ROOT } from '../helpers/doc-blocks.ts';
import { freePort, requireRedis } from '../helpers/redis-server.ts';

const HAPROXY = '/usr/sbin/haproxy';

/** True when HAProxy is there; otherwise skips with the reason, except on CI where it is a failure. */
function requireHaproxy(t: TestContext): boolean {
  if (existsSync(HAPROXY)) return true;
  const reason = `${HAPROXY} not installed (Debian package haproxy)`;
  assert.ok(process.env['CI'] !== 'true', `${reason}: required on CI`);
  console.log(`# skipping: ${reason}`);
  t.skip(reason);
  return false;
}

test('§16 deploy/cluster/haproxy.cfg: a channel\'s viewers land on its owner; after kill -9 they move to a survivor', { timeout: 60_000 }, async (t) => {
  if (!requireHaproxy(t) || !requireRedis(t)) return;
  const { origin, nodes } = await startFrontCluster(t);

  const dir = await tempDir(t, 'm3u-cluster-haproxy-');
  const port = await freePort();
  let conf = readFileSync(join(REPO_ROOT, 'deploy/cluster/haproxy.cfg'), 'utf8');
  nodes.forEach((n, i) => (conf = conf.replace(`node${i + 1}:8085`, `127.0.0.1:${n.port}`)));
  conf = conf.replace('bind :8085', `bind 127.0.0.1:${port}`);
  assert.ok(!/node\d:8085|bind :8085/.test(conf), 'every node and the bind address replaced');
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, conf);
  const check = spawn(HAPROXY, ['-c', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let checkOut = '';
  check.stdout.on('data', (d: Buffer) => (checkOut += d.toString()));
  check.stderr.on('data', (d: Buffer) => (checkOut += d.toString()));
  assert.equal(await new Promise((resolve) => check.once('exit', resolve)), 0, `haproxy -c: ${checkOut}`);
  // -db: foreground, no daemon; the child is the one process to stop.
  const child = trackChild(t, spawn(HAPROXY, ['-db', '-f', file], { stdio: 'ignore' }));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const lb = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const up = await fetch(`${lb}/livez`).then((r) => r.status === 200, () => false);
    if (up) break;
    assert.ok(i < 50 && child.exitCode === null, 'haproxy answers');
    await new Promise((r) => setTimeout(r, 100));
  }
  await frontScenario(t, 'haproxy', lb, origin, nodes);
});
