// Child processes of the bench: the proxy under test (its own process, so /proc gives its CPU and RSS alone), the
// forked origin and load client, free ports, and the management calls the bench makes (POST /streams).
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import http from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Job, JobResult, LoadMessage, Phase } from './load.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXEC_ARGV = ['--import', 'tsx'];

let built = false;

/** Bundles src/ to dist/main.cjs once per bench run (`npm run build`), so the proxy measured is the current source. */
function buildOnce(): string {
  if (!built) {
    execFileSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'bin', 'build.ts')], { cwd: REPO_ROOT, stdio: 'inherit' });
    built = true;
  }
  return join(REPO_ROOT, 'dist', 'main.cjs');
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** GET a path; resolves with the status and body text, or undefined when nothing answers. */
export function httpGet(url: string, timeoutMs = 2000): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (body.length < 1_000_000) body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(undefined));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(undefined));
  });
}

export interface ProxyProcess {
  pid: number;
  base: string;
  stop(): Promise<void>;
}

function stopper(child: ChildProcess, exited: Promise<void>): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(killer);
  };
}

/**
 * Starts `node --import tsx src/main.ts` with a raised fd limit and waits until /livez answers. Memory only unless
 * `extraEnv` names a STATE_FILE: the bench never writes ./data in the repository.
 */
export interface ProxyVariant {
  /** A built main.cjs (or an older build's main.js) to run instead of this checkout's (e.g. another commit's build, for an A/B in one run). */
  entry?: string;
  /** Node flags instead of BENCH_PROXY_NODE_ARGS. */
  nodeArgs?: string;
}

export async function startProxy(extraEnv: NodeJS.ProcessEnv = {}, variant: ProxyVariant = {}): Promise<ProxyProcess> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { LOG_LEVEL: 'error', STATE_FILE: '', ...extraEnv };
  for (const key of ['PATH', 'HOME', 'TMPDIR']) if (process.env[key] !== undefined) env[key] = process.env[key];
  // Settings for the proxy alone, e.g. BENCH_PROXY_ENV='SHARE_LIVE_UPSTREAM=false' to compare a setting's cost.
  for (const kv of (process.env['BENCH_PROXY_ENV'] ?? '').split(',').filter((x) => x.includes('='))) {
    env[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
  }
  // Extra node flags for the proxy alone, e.g. BENCH_PROXY_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile it.
  const nodeArgs = (variant.nodeArgs ?? process.env['BENCH_PROXY_NODE_ARGS'] ?? '').split(/\s+/).filter((a) => a !== '');
  // `exec` keeps the pid, so /proc/<pid> is the proxy's node process itself, not the shell.
  const script = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"';
  // The compiled build, as users run it (npm start, the container, the unit): tsx's loader and source-mapped stack
  // traces cost the byte path a third more CPU. BENCH_PROXY_SOURCE=1 measures the TypeScript source instead.
  // BENCH_PROXY_ENTRY=<another build's dist/main.cjs> measures that build instead (a before/after in the same conditions).
  const other = variant.entry ?? process.env['BENCH_PROXY_ENTRY'];
  const entry = other !== undefined ? [other] : process.env['BENCH_PROXY_SOURCE'] === '1' ? ['--import', 'tsx', 'src/main.ts'] : [buildOnce()];
  const argv = [process.execPath, ...nodeArgs, ...entry, '--host', '127.0.0.1', '--port', String(port)];
  // BENCH_PROXY_STDOUT=<file> keeps the proxy's stdout (e.g. with BENCH_PROXY_NODE_ARGS='--trace-gc').
  const outFile = process.env['BENCH_PROXY_STDOUT'];
  const stdout = outFile ? openSync(outFile, 'w') : 'ignore';
  const child = spawn('sh', ['-c', script, 'sh', ...argv], { cwd: REPO_ROOT, env, stdio: ['ignore', stdout, 'pipe'] });
  if (typeof stdout === 'number') closeSync(stdout);
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (c: string) => (stderr = (stderr + c).slice(-8000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = stopper(child, exited);
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    const r = await httpGet(`${base}/livez`, 500);
    if (r !== undefined) return { pid: child.pid ?? 0, base, stop };
    await new Promise((r2) => setTimeout(r2, 100));
  }
  await stop();
  throw new Error(`proxy did not start:\n${stderr}`);
}

/** POST /streams; the endpoint path on success, or a reason for the table. */
export function createStream(base: string, url: string): Promise<{ id: string; endpoint: string } | { error: string }> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ url });
    const req = http.request(`${base}/streams`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        if (res.statusCode !== 200) return resolve({ error: `POST /streams ${res.statusCode}` });
        const parsed = JSON.parse(text) as { stream_id?: unknown; stream_endpoint?: unknown };
        if (typeof parsed.stream_id !== 'string' || typeof parsed.stream_endpoint !== 'string') return resolve({ error: 'POST /streams: no stream_id' });
        resolve({ id: parsed.stream_id, endpoint: parsed.stream_endpoint });
      });
    });
    req.on('error', (err) => resolve({ error: `POST /streams: ${err.message}` }));
    req.end(body);
  });
}

export interface Children {
  originPort: number;
  originPid: number;
  run(job: Job, onPhase?: (phase: Phase) => void): Promise<JobResult>;
  stop(): Promise<void>;
}

function forkChild(file: string): { child: ChildProcess; ready: Promise<Record<string, unknown>>; exited: Promise<void> } {
  const child = fork(fileURLToPath(new URL(file, import.meta.url)), ['--child'], { cwd: REPO_ROOT, execArgv: EXEC_ARGV, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    const onMessage = (m: unknown): void => {
      const msg = m as Record<string, unknown>;
      if (msg['type'] === 'ready') {
        child.off('message', onMessage);
        resolve(msg);
      }
    };
    child.on('message', onMessage);
    void exited.then(() => reject(new Error(`${file} exited before it was ready`)));
  });
  return { child, ready, exited };
}

/** The origin and the load client, each in its own process. */
export async function startChildren(): Promise<Children> {
  const origin = forkChild('./origin.ts');
  const load = forkChild('./load.ts');
  const stopAll = async (): Promise<void> => {
    await Promise.all([stopper(origin.child, origin.exited)(), stopper(load.child, load.exited)()]);
  };
  let originReady: Record<string, unknown>;
  try {
    [originReady] = await Promise.all([origin.ready, load.ready]);
  } catch (err) {
    await stopAll();
    throw err;
  }
  let nextId = 1;
  const run = (job: Job, onPhase?: (phase: Phase) => void): Promise<JobResult> => {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const onMessage = (m: unknown): void => {
        const msg = m as LoadMessage;
        if (msg.id !== id) return;
        if (msg.type === 'phase') return onPhase?.(msg.phase);
        load.child.off('message', onMessage);
        if (msg.type === 'result') resolve(msg.result);
        else reject(new Error(msg.error));
      };
      load.child.on('message', onMessage);
      void load.exited.then(() => reject(new Error(`load client exited during job ${job.kind}`)));
      load.child.send({ type: 'job', id, job });
    });
  };
  return { originPort: Number(originReady['port']), originPid: origin.child.pid ?? 0, run, stop: stopAll };
}

/** The status of a GET, read no further than its headers (for route probes on large bodies). */
export function statusOf(url: string, timeoutMs = 15_000): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      resolve(res.statusCode);
      req.destroy();
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(undefined));
  });
}

/** process.memoryUsage() of the proxy as its /metrics reports it (bytes by type: rss, heap_used, external...). */
export async function proxyMemory(base: string): Promise<Record<string, number>> {
  const r = await httpGet(`${base}/metrics`, 5000);
  const out: Record<string, number> = {};
  if (r === undefined || r.status !== 200) return out;
  for (const m of r.body.matchAll(/^m3u_proxy_process_memory_bytes\{type="(\w+)"\} (\S+)$/gm)) out[m[1] ?? ''] = Number(m[2]);
  return out;
}
