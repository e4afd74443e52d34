// nginx as people deploy it in front of an origin, for the bench's comparison column: a temp prefix and config,
// run in the foreground as the current user, stopped and its directory removed by stop().
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { childPidsOf } from './stats.ts';

/** How the comparison nginx is configured, printed with the results. */
export const NGINX_SETUP =
  'nginx: worker_processes auto, proxy_http_version 1.1, upstream keepalive 64, default proxy_buffering on, access_log off';

export interface Nginx {
  port: number;
  masterPid: number;
  /** Master and workers, for CPU and RSS. */
  pids(): number[];
  stop(): Promise<void>;
}

/** The nginx binary, or undefined when it is not installed (the bench then skips the column). */
export function findNginx(): string | undefined {
  for (const candidate of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx', '/usr/bin/nginx']) {
    if (existsSync(candidate)) return candidate;
  }
  const r = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' });
  const path = r.stdout.trim();
  return r.status === 0 && path !== '' ? path : undefined;
}

/** Every temp directory below the prefix, so that nginx writes nothing outside it (it runs unprivileged, in a temp dir). */
export function tempPaths(prefix: string): string {
  const dirs = { client_body_temp_path: 'client_body', proxy_temp_path: 'proxy_temp', fastcgi_temp_path: 'fastcgi_temp', uwsgi_temp_path: 'uwsgi_temp', scgi_temp_path: 'scgi_temp' };
  return Object.entries(dirs).map(([directive, dir]) => `  ${directive} ${join(prefix, dir)};`).join('\n');
}

function configText(prefix: string, port: number, originPort: number, localPort: number): string {
  const user = userInfo();
  const group = spawnSync('id', ['-gn'], { encoding: 'utf8' }).stdout.trim() || user.username;
  return `# bench nginx: plain reverse proxy
${user.uid === 0 ? `user ${user.username} ${group};` : ''}
daemon off;
master_process on;
worker_processes auto;
worker_rlimit_nofile 16384;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'error.log')} error;
events { worker_connections 8192; }
http {
  access_log off;
${tempPaths(prefix)}
  keepalive_requests 100000;
  proxy_cache_path ${join(prefix, 'cache')} levels=1:2 keys_zone=hls:10m max_size=256m inactive=60s use_temp_path=off;
  upstream origin {
    server 127.0.0.1:${originPort};
    keepalive 64;
  }
  upstream local {
    server 127.0.0.1:${localPort};
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
    }
    # The bench's in-process origin (disconnect test), same settings.
    location /local/ {
      proxy_pass http://local/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
    }
    # The same, as a caching HLS edge: one upstream fetch per object (proxy_cache_lock), lifetimes from the origin's
    # Cache-Control (the HLS viewers bench).
    location /cached/ {
      proxy_pass http://local/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_cache hls;
      proxy_cache_lock on;
      proxy_cache_lock_timeout 10s;
      proxy_cache_use_stale updating;
    }
  }
}
`;
}

async function waitForPort(port: number, deadlineMs: number): Promise<boolean> {
  while (Date.now() < deadlineMs) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** `/local/...` goes to the in-process origin on `localPort`, everything else to the origin child. */
export async function startNginx(binary: string, port: number, originPort: number, localPort: number): Promise<Nginx> {
  const prefix = mkdtempSync(join(tmpdir(), 'm3u-bench-nginx-'));
  for (const dir of ['client_body', 'proxy_temp', 'fastcgi_temp', 'uwsgi_temp', 'scgi_temp']) mkdirSync(join(prefix, dir));
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(conf, configText(prefix, port, originPort, localPort));
  // -e: the early error log, before the config is read, must not go to the distro's /var/log/nginx.
  const child: ChildProcess = spawn(binary, ['-p', prefix, '-c', conf, '-e', join(prefix, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (c: string) => (stderr += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM'); // fast shutdown: the master stops its workers
      const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(prefix, { recursive: true, force: true });
  };
  const up = await waitForPort(port, Date.now() + 5000);
  if (!up || child.pid === undefined) {
    const log = existsSync(join(prefix, 'error.log')) ? readFileSync(join(prefix, 'error.log'), 'utf8') : '';
    await stop();
    throw new Error(`nginx did not start: ${stderr}${log}`);
  }
  const masterPid = child.pid;
  return { port, masterPid, pids: () => [masterPid, ...childPidsOf(masterPid)], stop };
}
