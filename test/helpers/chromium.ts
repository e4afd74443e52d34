// Headless Chromium for e2e tests: find it (or skip, except on CI), run it on a page with a fresh profile, and a
// page server whose script reports back to the test. Chromium's --dump-dom prints the DOM after the load event,
// so a page holds its load event on an <img src="/wait"> that the server releases once the page has reported.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { runTool } from './ffmpeg.ts';

function findChromium(): string | undefined {
  for (const candidate of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) if (existsSync(candidate)) return candidate;
  const r = spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : undefined;
}

/** Chromium's path; a test without it skips with the reason printed, and fails on CI. */
export function requireChromium(t: TestContext): string | undefined {
  const binary = findChromium();
  if (binary !== undefined) return binary;
  const reason = 'chromium not installed (apt-get install chromium)';
  assert.ok(!process.env['CI'], `${reason}: required on CI`);
  console.log(`# skipping: ${reason}`);
  t.skip(reason);
  return undefined;
}

/** Headless Chromium with a fresh profile and nothing talking to the network but the page; prints the DOM after load. */
export async function dumpDom(t: TestContext, binary: string, url: string, extra: string[] = []): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'm3u-e2e-chromium-'));
  t.after(() => rmSync(profile, { recursive: true, force: true }));
  const args = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', `--user-data-dir=${profile}`, ...extra, '--dump-dom', url,
  ];
  const r = await runTool(t, binary, args, { timeoutMs: 60_000 });
  assert.ok(!r.timedOut && r.code === 0, `chromium ${r.timedOut ? 'timed out' : `exited ${r.code ?? r.signal}`}:\n${r.stderr.slice(-2000)}`);
  return r.stdout;
}

export interface PageServer {
  port: number;
  /** The body the page POSTed to /report, once it has. */
  reported(): string | undefined;
  /** The newest body the page POSTed to /progress. */
  progress(): string | undefined;
}

/** Serves `page()` at every path but /report, /progress and /wait; /wait is held until the report came. */
export async function startPageServer(t: TestContext, page: () => string): Promise<PageServer> {
  let report: string | undefined;
  let progress: string | undefined;
  const waiting: (() => void)[] = [];
  const readBody = (req: import('node:http').IncomingMessage, done: (text: string) => void): void => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', () => done(text));
  };
  const server: Server = createServer((req, res) => {
    if (req.url === '/report') {
      readBody(req, (text) => {
        report = text;
        res.end('ok');
        for (const release of waiting.splice(0)) release();
      });
      return;
    }
    if (req.url === '/progress') {
      readBody(req, (text) => {
        progress = text;
        res.end('ok');
      });
      return;
    }
    if (req.url === '/wait') {
      const release = (): void => {
        res.writeHead(204).end();
      };
      if (report !== undefined) release();
      else waiting.push(release);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end(page());
  });
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return { port: address.port, reported: () => report, progress: () => progress };
}
