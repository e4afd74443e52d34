// Webhook delivery throughput (issue 14): how many events per second the proxy delivers to one local receiver.
// The receiver holds its answers while the events are produced (stream creations, one stream each, so they spread
// over the delivery lanes); the queue then drains and the rate is events / (last delivery − release). Two receivers:
// one that answers at once, one that takes 10 ms per event, like a manager writing each event to its database.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { log, type Results } from './results.ts';
import type { Row } from './table.ts';

/** Events per run: far below the default queue bound (nothing may be dropped), enough for a steady rate. */
export const HOOK_EVENTS = 2000;
/** Stream creations in flight while producing the events. */
const CREATE_PARALLEL = 16;
/** Safety bound for one drain, whatever the speed. */
const DRAIN_LIMIT_MS = 60_000;

interface Receiver {
  url: string;
  delivered: number;
  lastAt: number;
  release(): void;
  close(): Promise<void>;
}

/** Counts POSTs; answers after `delayMs`, and holds every answer until release(). */
async function startReceiver(delayMs: number): Promise<Receiver> {
  const held: Array<() => void> = [];
  let open = false;
  const state = { delivered: 0, lastAt: 0 };
  const server = http.createServer((req, res) => {
    req.resume();
    req.once('end', () => {
      const answer = (): void => {
        state.delivered += 1;
        state.lastAt = performance.now();
        res.writeHead(204).end();
      };
      const later = (): void => void (delayMs > 0 ? setTimeout(answer, delayMs) : answer());
      if (open) later();
      else held.push(later);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    get delivered() {
      return state.delivered;
    },
    get lastAt() {
      return state.lastAt;
    },
    release() {
      open = true;
      for (const go of held.splice(0)) go();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function call(base: string, method: string, path: string, agent: http.Agent, body?: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: http.OutgoingHttpHeaders = text === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) };
    const req = http.request(`${base}${path}`, { method, agent, headers }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
    req.end(text);
  });
}

/** One drain: returns deliveries per second, or a reason. */
async function drainOnce(base: string, delayMs: number, tag: string): Promise<number | string> {
  const receiver = await startReceiver(delayMs);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CREATE_PARALLEL });
  try {
    const added = await call(base, 'POST', '/webhooks', agent, { url: receiver.url, events: ['stream_started'], timeout: 60, retry_attempts: 0 });
    if (added !== 200) return `n/a (POST /webhooks ${added})`;
    let next = 0;
    await Promise.all(
      Array.from({ length: CREATE_PARALLEL }, async () => {
        for (let i = next++; i < HOOK_EVENTS; i = next++) {
          await call(base, 'POST', '/streams', agent, { url: `http://127.0.0.1:9/hookbench/${tag}/${i}.ts`, metadata: { hookbench: tag } });
        }
      }),
    );
    const released = performance.now();
    receiver.release();
    while (receiver.delivered < HOOK_EVENTS && performance.now() - released < DRAIN_LIMIT_MS) {
      await new Promise((r) => setTimeout(r, 20));
    }
    if (receiver.delivered < HOOK_EVENTS) return `n/a (${receiver.delivered}/${HOOK_EVENTS} delivered)`;
    return HOOK_EVENTS / ((receiver.lastAt - released) / 1000);
  } finally {
    await call(base, 'DELETE', `/webhooks?webhook_url=${encodeURIComponent(receiver.url)}`, agent);
    await call(base, 'DELETE', `/streams/by-metadata?field=hookbench&value=${tag}`, agent);
    agent.destroy();
    await receiver.close();
  }
}

/** Adds `hook0` and `hook10` (deliveries per second) for the proxy at `base`, `reps` runs each. */
export async function benchWebhooks(results: Results, base: string | undefined, reps: number): Promise<void> {
  for (const [metric, delayMs] of [['hook0', 0], ['hook10', 10]] as const) {
    for (let rep = 0; rep < reps; rep++) {
      if (base === undefined) {
        results.note(metric, 'proxy', 'n/a (proxy not running)');
        continue;
      }
      const r = await drainOnce(base, delayMs, `${metric}-${rep}-${Date.now()}`);
      if (typeof r === 'string') results.note(metric, 'proxy', r);
      else results.add(metric, 'proxy', r);
      log(`webhooks, receiver ${delayMs} ms: ${typeof r === 'string' ? r : `${r.toFixed(0)} deliveries/s`}`);
    }
  }
}

/** The report rows of this section (proxy only: the origin and nginx deliver no webhooks). */
export function webhookRows(results: Results): Row[] {
  const rowOf = (metric: string, key: string): Row => ({ metric, direct: undefined, proxy: results.cell(key, 'proxy'), nginx: undefined, target: { kind: 'none' }, digits: 0 });
  return [rowOf('webhook deliveries/s, receiver answers at once', 'hook0'), rowOf('webhook deliveries/s, receiver takes 10 ms', 'hook10')];
}
