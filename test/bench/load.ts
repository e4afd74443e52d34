// The bench load client: runs one job at a time sent over IPC (throughput readers, TTFB probes, paced players,
// playlist fetches, segment fetchers) on node:http with a keep-alive Agent, in its own process so that its event
// loop is not the origin's or the proxy's. Every job is bounded in time and in count and ends by itself.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export type Job =
  | { kind: 'throughput'; urls: string[]; readers: number; durationMs: number }
  | { kind: 'ttfb'; url: string; count: number }
  /** `halfMs` > 0: open half the players first and hold `halfMs` (phase 'half'), for the marginal cost of the second half. */
  | { kind: 'paced'; urls: string[]; clients: number; warmupMs: number; measureMs: number; halfMs: number }
  | { kind: 'playlist'; url: string; count: number; keepUris: number }
  | { kind: 'segments'; urls: string[]; concurrency: number; durationMs: number; maxRequests: number };

export interface ThroughputResult {
  bytes: number;
  elapsedMs: number;
  requests: number;
  errors: number;
  statuses: Record<string, number>;
}
export interface TtfbResult {
  ms: number[];
  errors: number;
  statuses: Record<string, number>;
}
export interface PacedResult {
  /** Bits per second of each connection over the measuring window (0 for one that failed). */
  rates: number[];
  connected: number;
  /** Players answered 200 when the first half had been held for `halfMs`. */
  connectedAtHalf: number;
  errors: number;
  statuses: Record<string, number>;
}
export interface PlaylistResult {
  ms: number[];
  bytes: number;
  /** The first `keepUris` URI lines of the first answer. */
  uris: string[];
  uriLines: number;
  statuses: Record<string, number>;
}
export interface SegmentsResult {
  requests: number;
  bytes: number;
  elapsedMs: number;
  errors: number;
  statuses: Record<string, number>;
}
export type JobResult = ThroughputResult | TtfbResult | PacedResult | PlaylistResult | SegmentsResult;

/** Messages to the parent besides the job's answer: the paced job says when its measuring window opens and closes. */
export type LoadMessage =
  | { type: 'result'; id: number; result: JobResult }
  | { type: 'failed'; id: number; error: string }
  | { type: 'phase'; id: number; phase: Phase };

export type Phase = 'half' | 'half-done' | 'measuring' | 'measured';

/** Hard cap on any job: a stuck server cannot hang the bench. */
const JOB_CAP_MS = 120_000;

const agent = new http.Agent({ keepAlive: true, maxSockets: 4096, maxFreeSockets: 256 });

function count(statuses: Record<string, number>, key: string): void {
  statuses[key] = (statuses[key] ?? 0) + 1;
}

/** Each reader GETs its URL again and again until the deadline; bytes received before the deadline count. */
async function runThroughput(job: Extract<Job, { kind: 'throughput' }>): Promise<ThroughputResult> {
  const statuses: Record<string, number> = {};
  const start = performance.now();
  const deadline = start + job.durationMs;
  let bytes = 0;
  let requests = 0;
  let errors = 0;
  const live = new Set<http.ClientRequest>();
  const reader = async (k: number): Promise<void> => {
    const url = job.urls[k % job.urls.length] ?? '';
    while (performance.now() < deadline) {
      const ok = await new Promise<boolean>((resolve) => {
        const req = http.get(url, { agent }, (res) => {
          count(statuses, String(res.statusCode));
          if (res.statusCode !== 200 && res.statusCode !== 206) {
            res.resume();
            resolve(false);
            return;
          }
          res.on('data', (chunk: Buffer) => {
            if (performance.now() < deadline) bytes += chunk.length;
          });
          res.on('end', () => {
            requests++;
            resolve(true);
          });
          res.on('error', () => resolve(false));
          res.on('close', () => resolve(false));
        });
        live.add(req);
        req.on('error', (err) => {
          if (performance.now() < deadline) {
            errors++;
            count(statuses, (err as NodeJS.ErrnoException).code ?? 'error');
          }
          resolve(false);
        });
        req.on('close', () => live.delete(req));
      });
      if (!ok && performance.now() < deadline) return; // a failing target: stop this reader rather than spin
    }
  };
  const stopper = setTimeout(() => {
    for (const req of live) req.destroy();
  }, job.durationMs);
  await Promise.all(Array.from({ length: job.readers }, (_, k) => reader(k)));
  clearTimeout(stopper);
  for (const req of live) req.destroy();
  return { bytes, elapsedMs: Math.min(performance.now(), deadline) - start, requests, errors, statuses };
}

/** One GET read to the end; resolves with the time to the first body byte (or the end, for an empty body). */
/** `ms` is the time to the first body byte, `totalMs` the time to the last. */
function timedGet(url: string, statuses: Record<string, number>, keepBody = false): Promise<{ ms: number; totalMs: number; body: Buffer | undefined; bytes: number } | undefined> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let first: number | undefined;
    let bytes = 0;
    const chunks: Buffer[] = [];
    const req = http.get(url, { agent }, (res) => {
      count(statuses, String(res.statusCode));
      res.on('data', (chunk: Buffer) => {
        first ??= performance.now();
        bytes += chunk.length;
        if (keepBody) chunks.push(chunk);
      });
      res.on('end', () => {
        const ok = res.statusCode === 200 || res.statusCode === 206;
        const done = performance.now();
        resolve(ok ? { ms: (first ?? done) - t0, totalMs: done - t0, body: keepBody ? Buffer.concat(chunks) : undefined, bytes } : undefined);
      });
      res.on('error', () => resolve(undefined));
    });
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.on('error', (err) => {
      count(statuses, (err as NodeJS.ErrnoException).code ?? err.message);
      resolve(undefined);
    });
  });
}

async function runTtfb(job: Extract<Job, { kind: 'ttfb' }>): Promise<TtfbResult> {
  const statuses: Record<string, number> = {};
  const ms: number[] = [];
  let errors = 0;
  const end = performance.now() + JOB_CAP_MS / 4;
  for (let i = 0; i < job.count && performance.now() < end; i++) {
    const r = await timedGet(job.url, statuses);
    if (r === undefined) errors++;
    else ms.push(r.ms);
    if (errors > 5) break;
  }
  return { ms, errors, statuses };
}

/** `clients` long-lived players; each one's bytes over [warmup, warmup + measure] give its rate. */
async function runPaced(job: Extract<Job, { kind: 'paced' }>, id: number): Promise<PacedResult> {
  const statuses: Record<string, number> = {};
  const received = new Array<number>(job.clients).fill(0);
  const reqs: http.ClientRequest[] = [];
  let connected = 0;
  let errors = 0;
  let connectedAtHalf = 0;
  const half = job.halfMs > 0 ? Math.floor(job.clients / 2) : 0;
  for (let k = 0; k < job.clients; k++) {
    if (k === half && half > 0) {
      await new Promise((r) => setTimeout(r, job.warmupMs));
      process.send?.({ type: 'phase', id, phase: 'half' } satisfies LoadMessage);
      await new Promise((r) => setTimeout(r, job.halfMs));
      connectedAtHalf = connected;
      process.send?.({ type: 'phase', id, phase: 'half-done' } satisfies LoadMessage);
    }
    const req = http.get(job.urls[k % job.urls.length] ?? '', { agent }, (res) => {
      count(statuses, String(res.statusCode));
      if (res.statusCode === 200) connected++;
      res.on('data', (chunk: Buffer) => {
        received[k] = (received[k] ?? 0) + chunk.length;
      });
      res.on('error', () => undefined); // ends with the destroy below; counted as a shortfall in its rate
    });
    req.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' && req.destroyed) return; // our own destroy at the end
      errors++;
      count(statuses, (err as NodeJS.ErrnoException).code ?? err.message);
    });
    reqs.push(req);
    // Spread the connects a little: a burst of 500 SYNs at once measures the accept queue, not playback.
    if (k % 50 === 49) await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, job.warmupMs));
  const before = received.slice();
  const t0 = performance.now();
  process.send?.({ type: 'phase', id, phase: 'measuring' } satisfies LoadMessage);
  await new Promise((r) => setTimeout(r, job.measureMs));
  const seconds = (performance.now() - t0) / 1000;
  const rates = received.map((b, k) => ((b - (before[k] ?? 0)) * 8) / seconds);
  process.send?.({ type: 'phase', id, phase: 'measured' } satisfies LoadMessage);
  const answered = Object.values(statuses).reduce((a, b) => a + b, 0);
  if (answered < job.clients) statuses['no answer'] = job.clients - answered;
  for (const req of reqs) req.destroy();
  return { rates, connected, connectedAtHalf, errors, statuses };
}

async function runPlaylist(job: Extract<Job, { kind: 'playlist' }>): Promise<PlaylistResult> {
  const statuses: Record<string, number> = {};
  const ms: number[] = [];
  let uris: string[] = [];
  let uriLines = 0;
  let bytes = 0;
  const end = performance.now() + JOB_CAP_MS / 4;
  for (let i = 0; i < job.count && performance.now() < end; i++) {
    const r = await timedGet(job.url, statuses, i === 0);
    if (r === undefined) break;
    // Whole-body time: a playlist is useless to a player until its last line.
    ms.push(r.totalMs);
    if (r.body !== undefined) {
      bytes = r.body.length;
      const lines = r.body.toString('utf8').split(/\r?\n/).filter((l) => l !== '' && !l.startsWith('#'));
      uriLines = lines.length;
      uris = lines.slice(0, job.keepUris);
    }
  }
  return { ms, bytes, uris, uriLines, statuses };
}

async function runSegments(job: Extract<Job, { kind: 'segments' }>): Promise<SegmentsResult> {
  const statuses: Record<string, number> = {};
  const start = performance.now();
  const deadline = start + job.durationMs;
  let next = 0;
  let requests = 0;
  let bytes = 0;
  let errors = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline && requests + errors < job.maxRequests) {
      const url = job.urls[next++ % job.urls.length] ?? '';
      const r = await timedGet(url, statuses);
      if (r === undefined) {
        errors++;
        if (errors > 20 && requests === 0) return; // the target does not work: give up quickly
      } else if (performance.now() <= deadline) {
        requests++;
        bytes += r.bytes;
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, () => worker()));
  return { requests, bytes, elapsedMs: Math.min(performance.now(), deadline) - start, errors, statuses };
}

function runJob(job: Job, id: number): Promise<JobResult> {
  switch (job.kind) {
    case 'throughput':
      return runThroughput(job);
    case 'ttfb':
      return runTtfb(job);
    case 'paced':
      return runPaced(job, id);
    case 'playlist':
      return runPlaylist(job);
    case 'segments':
      return runSegments(job);
  }
}

function runChild(): void {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('load.ts --child needs an IPC channel (fork it)');
  process.on('message', (m: unknown) => {
    const msg = m as { type?: string; id?: number; job?: Job };
    if (msg.type === 'stop') {
      agent.destroy();
      process.exit(0);
    }
    if (msg.type !== 'job' || msg.job === undefined || msg.id === undefined) return;
    const id = msg.id;
    const cap = setTimeout(() => {
      send({ type: 'failed', id, error: `job ${msg.job?.kind ?? '?'} exceeded ${JOB_CAP_MS} ms` } satisfies LoadMessage);
      process.exit(1);
    }, JOB_CAP_MS);
    runJob(msg.job, id).then(
      (result) => {
        clearTimeout(cap);
        // Idle keep-alive sockets from one job must not be reused across targets (or count as a target's clients).
        agent.destroy();
        send({ type: 'result', id, result } satisfies LoadMessage);
      },
      (err: unknown) => {
        clearTimeout(cap);
        send({ type: 'failed', id, error: err instanceof Error ? err.message : String(err) } satisfies LoadMessage);
      },
    );
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready' });
}

if (process.argv.includes('--child')) runChild();
