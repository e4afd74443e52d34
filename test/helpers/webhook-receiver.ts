// A webhook receiver on 127.0.0.1:0 for integration tests: records every delivery and answers per a scriptable mode.
// Teardown (held requests, sockets, server) is registered on t.after before the server listens.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { TestContext } from 'node:test';
import type { ProxyEvent } from '../../src/core/events.ts';

export interface Delivery {
  headers: IncomingHttpHeaders;
  /** The exact body bytes as text: what the signature covers. */
  raw: string;
  event: ProxyEvent;
  /** The answer this delivery got. */
  status: number | 'held';
}

/** 'ok' answers 200; 'fail' answers 500 to the first `times` requests, then 200; 'hang' never answers. */
/** `open-body`: answers 200 and a first byte of its body, and never ends it. */
export type ReceiverMode = { kind: 'ok' } | { kind: 'fail'; times: number; status?: number } | { kind: 'hang' } | { kind: 'open-body' };

export interface Receiver {
  readonly url: string;
  /** Every request that reached the receiver, in arrival order (including failed and held ones). */
  readonly deliveries: readonly Delivery[];
  /** Requests answered 2xx. */
  accepted(): Delivery[];
  ofType(type: string): Delivery[];
  setMode(mode: ReceiverMode): void;
  /** Resolves once `condition` holds after some delivery; rejects after a generous safety bound. */
  until(condition: () => boolean, what: string, timeoutMs?: number): Promise<void>;
}

/** True when `signature` is `sha256=<hex HMAC-SHA256(secret, raw)>`; compared in constant time, as a real receiver should. */
export function verifySignature(secret: string, raw: string, signature: string | undefined): boolean {
  if (!signature?.startsWith('sha256=')) return false;
  const expected = createHmac('sha256', secret).update(raw).digest();
  const given = Buffer.from(signature.slice('sha256='.length), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function startReceiver(t: TestContext, mode: ReceiverMode = { kind: 'ok' }): Promise<Receiver> {
  const deliveries: Delivery[] = [];
  const held = new Set<ServerResponse>();
  const waiters = new Set<() => void>();
  let current = mode;
  let failuresLeft = mode.kind === 'fail' ? mode.times : 0;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const delivery: Delivery = { headers: req.headers, raw, event: JSON.parse(raw) as ProxyEvent, status: 200 };
      if (current.kind === 'hang' || current.kind === 'open-body') {
        if (current.kind === 'open-body') res.writeHead(200, { 'content-type': 'text/plain' }).write('o');
        else delivery.status = 'held';
        held.add(res);
        res.once('close', () => held.delete(res));
      } else if (current.kind === 'fail' && failuresLeft > 0) {
        failuresLeft -= 1;
        delivery.status = current.status ?? 500;
        res.writeHead(delivery.status).end('nope');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      }
      deliveries.push(delivery);
      for (const wake of [...waiters]) wake();
    });
  });
  t.after(async () => {
    for (const res of held) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  return {
    url: `http://127.0.0.1:${port}/hook`,
    deliveries,
    accepted: () => deliveries.filter((d) => d.status === 200),
    ofType: (type) => deliveries.filter((d) => d.status === 200 && d.event.event_type === type),
    setMode(next) {
      current = next;
      failuresLeft = next.kind === 'fail' ? next.times : 0;
    },
    until(condition, what, timeoutMs = 5_000) {
      if (condition()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!condition()) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
  };
}
