// SPEC §16 routing: the shipped deploy/cluster/nginx.conf in front of three nodes (its server lines and listen port
// pointed at loopback ports, nothing else changed). Every viewer of a channel lands on one node, which is the
// channel's owner, so no relay is needed and each channel has one provider connection; after that node is killed,
// nginx sends the reconnecting viewers to the next node of the ring, which takes the channel over.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempPaths } from '../bench/nginx.ts';
import { frontScenario, startFrontCluster } from '../helpers/cluster-front.ts';
import { killGroup, tempDir, trackChild } from '../helpers/children.ts';
import { requireNginx } from '../helpers/nginx.ts';
import { waitFor } from '../helpers/origin.ts';
import { freePort, requireRedis } from '../helpers/redis-server.ts';
import { REPO_ROOT } from '../helpers/doc-blocks.ts';

test('§16 deploy/cluster/nginx.conf: a channel\'s viewers land on its owner; after kill -9 the ring moves them', { timeout: 60_000 }, async (t) => {
  const nginx = requireNginx(t);
  if (nginx === undefined || !requireRedis(t)) return;
  const { origin, nodes } = await startFrontCluster(t);

  // The sample as shipped, but for where the nodes and nginx listen, and where nginx keeps its files.
  const prefix = await tempDir(t, 'm3u-cluster-nginx-');
  for (const dir of ['client_body', 'proxy_temp', 'fastcgi_temp', 'uwsgi_temp', 'scgi_temp']) mkdirSync(join(prefix, dir));
  const lbPort = await freePort();
  let conf = readFileSync(join(REPO_ROOT, 'deploy/cluster/nginx.conf'), 'utf8');
  nodes.forEach((n, i) => (conf = conf.replace(`server node${i + 1}:8085`, `server 127.0.0.1:${n.port}`)));
  conf = conf.replace('listen 8085;', `listen 127.0.0.1:${lbPort};`).replace('http {', `http {\n${tempPaths(prefix)}`);
  conf = `daemon off;\npid ${join(prefix, 'nginx.pid')};\nerror_log ${join(prefix, 'error.log')} warn;\n${conf.replace('worker_processes auto;', 'worker_processes 2;')}`;
  assert.ok(!/node\d:8085|listen 8085/.test(conf), 'every node and the listen port replaced');
  writeFileSync(join(prefix, 'nginx.conf'), conf);
  // Its own process group: nginx's workers outlive a SIGKILLed master (they were found running hours later).
  const child = trackChild(t, spawn(nginx, ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log')], { stdio: 'ignore', detached: true }));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      // SIGTERM: the master stops its workers; the group's SIGKILL only if it does not.
      child.kill('SIGTERM');
      const killer = setTimeout(() => killGroup(child.pid), 3000);
      await exited;
      clearTimeout(killer);
    }
    killGroup(child.pid);
  });
  await waitFor(() => existsSync(join(prefix, 'nginx.pid')) || child.exitCode !== null, 5_000, 'nginx to start');
  assert.equal(child.exitCode, null, `nginx runs the sample configuration: ${existsSync(join(prefix, 'error.log')) ? readFileSync(join(prefix, 'error.log'), 'utf8') : ''}`);
  await frontScenario(t, 'nginx', `http://127.0.0.1:${lbPort}`, origin, nodes);

});
