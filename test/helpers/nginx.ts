// Debian's nginx configured as m3u-editor's nginx fronts the proxy (research/m3u-editor.md §2): a location that
// strips `/m3u-proxy/` and the editor's X-Forwarded-* headers. Temp prefix, pid and logs, ephemeral port, one
// foreground process; stopped and its directory removed in t.after.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { trackChild } from './children.ts';
import { findNginx, tempPaths } from '../bench/nginx.ts';
import { waitFor } from './origin.ts';

/** The nginx binary; skips the test with the reason when it is absent, except on CI where that is a failure. */
export function requireNginx(t: TestContext): string | undefined {
  const binary = findNginx();
  if (binary !== undefined) return binary;
  const reason = 'nginx not installed (apt-get install nginx-light)';
  assert.ok(!process.env['CI'], `${reason}: required on CI`);
  console.log(`# skipping: ${reason}`);
  t.skip(reason);
  return undefined;
}

/** A port nothing listens on right now (the kernel's pick); nginx binds it moments later. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address && typeof address === 'object');
  return address.port;
}

function configText(prefix: string, port: number, proxyPort: number): string {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'error.log')} warn;
events { worker_connections 256; }
http {
  access_log off;
${tempPaths(prefix)}
  server {
    listen 127.0.0.1:${port};
    # m3u-editor's block: the player links carry /m3u-proxy, which this strips.
    location ~ ^/m3u-proxy/(.*)$ {
      proxy_pass http://127.0.0.1:${proxyPort}/$1$is_args$args;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-Port $server_port;
      proxy_set_header X-Real-IP $remote_addr;
    }
  }
}
`;
}

export interface RunningNginx {
  port: number;
  /** http://127.0.0.1:port/m3u-proxy: what the editor hands players. */
  base: string;
}

export async function startEditorNginx(t: TestContext, binary: string, proxyPort: number): Promise<RunningNginx> {
  const prefix = mkdtempSync(join(tmpdir(), 'm3u-e2e-nginx-'));
  for (const dir of ['client_body', 'proxy_temp', 'fastcgi_temp', 'uwsgi_temp', 'scgi_temp']) mkdirSync(join(prefix, dir));
  const port = await freePort();
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(conf, configText(prefix, port, proxyPort));
  // -e: the early error log must not go to the distro's /var/log/nginx.
  const child = trackChild(t, spawn(binary, ['-p', prefix, '-c', conf, '-e', join(prefix, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] }));
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => (stderr += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(prefix, { recursive: true, force: true });
  });
  child.once('error', (err) => (stderr += String(err)));
  const log = (): string => stderr + (existsSync(join(prefix, 'error.log')) ? readFileSync(join(prefix, 'error.log'), 'utf8') : '');
  // nginx writes its pid file once it listens.
  await waitFor(() => existsSync(join(prefix, 'nginx.pid')) || child.exitCode !== null, 5_000, 'nginx to start').catch((err: unknown) => {
    throw new Error(`nginx did not start: ${log()}`, { cause: err });
  });
  assert.equal(child.exitCode, null, `nginx exited: ${log()}`);
  return { port, base: `http://127.0.0.1:${port}/m3u-proxy` };
}
