// A scriptable origin server on 127.0.0.1:0 for integration tests: files with Range support, live generators,
// status answers, delays, slow bodies and injected failures (reset, stall), plus socket accounting.
//
// Usage:
//   const origin = await startOrigin(t, { '/movie.mp4': { kind: 'file', body } });
//   origin.url('/movie.mp4')                      -> 'http://127.0.0.1:PORT/movie.mp4'
//   origin.set('/live.ts', { kind: 'live' })      -> add or replace a route while running
//   origin.requests / origin.hits('/live.ts')     -> what the proxy asked for (method, headers, socket closed?)
//   await origin.lastRequest('/live.ts').socketClosed  -> the origin saw that request's socket close
//   await waitFor(() => origin.openSockets === 0)  -> bounded polling for conditions without an event
// Teardown (timers, sockets, server) is registered on t.after before the server listens.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TestContext } from 'node:test';

/** How a body misbehaves; `times` limits it to the first N requests of the route (default: every request). */
export interface Fault {
  /** 'reset' sends a TCP RST, 'close' a FIN (a body cut short), 'stall' keeps the socket open and sends nothing more. */
  kind: 'reset' | 'close' | 'stall';
  /** Body bytes of this response sent before the fault. */
  afterBytes: number;
  times?: number;
}

export interface Common {
  /** Wait this long before sending headers (a slow origin; longer than the proxy's timeout: a timeout). */
  delayMs?: number;
  headers?: Record<string, string>;
  fault?: Fault;
}

export type Behaviour =
  /** A finite body with Content-Length, Range (206/416), ETag/If-None-Match (304) unless disabled. */
  | (Common & {
      kind: 'file';
      body: Buffer;
      contentType?: string;
      ranges?: boolean;
      etag?: string;
      /** Write in chunks of this size, honouring backpressure (default 16 KiB). */
      chunkBytes?: number;
      /** Pause between chunks: a slow body. */
      trickleMs?: number;
      /** Send no Content-Length (chunked framing). */
      omitLength?: boolean;
    })
  /** An endless live stream: `chunkBytes` of `fill` every `intervalMs` while the reader keeps up. */
  | (Common & { kind: 'live'; fill?: number; chunkBytes?: number; intervalMs?: number; contentType?: string })
  /** A fixed status with an optional small body. */
  | (Common & { kind: 'status'; status: number; body?: string })
  | (Common & { kind: 'redirect'; location: string; status?: number })
  /** Accepts the request and never answers. */
  | { kind: 'hang' }
  | { kind: 'handler'; handle(req: IncomingMessage, res: ServerResponse): void };

export interface OriginRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Body bytes this response has written so far. */
  bytesSent: number;
  /** Resolves when the origin-side socket of this request closed. */
  socketClosed: Promise<void>;
  isSocketClosed(): boolean;
}

export interface Origin {
  readonly port: number;
  readonly base: string;
  url(path: string): string;
  set(path: string, behaviour: Behaviour): void;
  readonly requests: readonly OriginRequest[];
  hits(path: string): OriginRequest[];
  lastRequest(path: string): OriginRequest;
  /** Sockets connected to the origin right now. */
  readonly openSockets: number;
  /** Sockets ever accepted. */
  readonly totalSockets: number;
  close(): Promise<void>;
}

/** Polls `condition` every few ms until true; rejects after `timeoutMs` with `what` in the message. */
export async function waitFor(condition: () => boolean, timeoutMs = 2_000, what = 'condition'): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function startOrigin(t: TestContext, routes: Record<string, Behaviour> = {}): Promise<Origin> {
  const table = new Map<string, Behaviour>(Object.entries(routes));
  const requests: OriginRequest[] = [];
  const faultCounts = new Map<string, number>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let totalSockets = 0;

  const later = (ms: number, fn: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  // One close promise per socket, shared by every request on it: keep-alive reuse must not pile up listeners.
  const closedBySocket = new WeakMap<Socket, Promise<void>>();
  const socketClosedOf = (socket: Socket): Promise<void> => {
    if (socket.destroyed) return Promise.resolve();
    let closed = closedBySocket.get(socket);
    if (!closed) {
      closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      closedBySocket.set(socket, closed);
    }
    return closed;
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const socket = req.socket;
    const record: OriginRequest = {
      method: req.method ?? 'GET',
      path,
      headers: req.headers,
      bytesSent: 0,
      // Not events.once: that rejects on 'error', and a reset socket is exactly what tests provoke.
      socketClosed: socketClosedOf(socket),
      isSocketClosed: () => socket.destroyed,
    };
    requests.push(record);
    const behaviour = table.get(path);
    if (!behaviour) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    if (behaviour.kind === 'hang') return;
    if (behaviour.kind === 'handler') {
      behaviour.handle(req, res);
      return;
    }
    // Decide once per request whether this one carries the fault.
    let fault: Fault | undefined;
    if (behaviour.fault) {
      const n = (faultCounts.get(path) ?? 0) + 1;
      faultCounts.set(path, n);
      if (behaviour.fault.times === undefined || n <= behaviour.fault.times) fault = behaviour.fault;
    }
    const go = (): void => answer(req, res, behaviour, record, fault);
    if (behaviour.delayMs) later(behaviour.delayMs, go);
    else go();
  });

  function answer(req: IncomingMessage, res: ServerResponse, b: Exclude<Behaviour, { kind: 'hang' } | { kind: 'handler' }>, record: OriginRequest, fault: Fault | undefined): void {
    if (res.destroyed) return;
    const extra = b.headers ?? {};
    switch (b.kind) {
      case 'status':
        res.writeHead(b.status, { 'content-type': 'text/plain', ...extra });
        res.end(b.body ?? '');
        return;
      case 'redirect':
        res.writeHead(b.status ?? 302, { location: b.location, ...extra });
        res.end();
        return;
      case 'file':
        serveFile(req, res, b, record, fault);
        return;
      case 'live':
        serveLive(res, b, record, fault);
        return;
    }
  }

  function serveFile(req: IncomingMessage, res: ServerResponse, b: Extract<Behaviour, { kind: 'file' }>, record: OriginRequest, fault: Fault | undefined): void {
    const size = b.body.length;
    const headers: Record<string, string> = { 'content-type': b.contentType ?? 'application/octet-stream', ...(b.headers ?? {}) };
    if (b.ranges !== false) headers['accept-ranges'] = 'bytes';
    if (b.etag) headers['etag'] = b.etag;
    if (b.etag && req.headers['if-none-match'] === b.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    let start = 0;
    let end = size - 1;
    let status = 200;
    const range = b.ranges === false ? undefined : req.headers.range;
    if (range) {
      const parsed = parseRange(range, size);
      if (!parsed) {
        res.writeHead(416, { ...headers, 'content-range': `bytes */${size}` });
        res.end();
        return;
      }
      [start, end] = parsed;
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${size}`;
    }
    if (!b.omitLength) headers['content-length'] = String(end - start + 1);
    res.writeHead(status, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    writeBody(res, b.body.subarray(start, end + 1), b.chunkBytes ?? 16 * 1024, b.trickleMs ?? 0, record, fault);
  }

  /** Writes `body` in chunks with backpressure, applying the fault when its byte count is reached. */
  function writeBody(res: ServerResponse, body: Buffer, chunkBytes: number, trickleMs: number, record: OriginRequest, fault: Fault | undefined): void {
    let offset = 0;
    const step = (): void => {
      while (!res.destroyed) {
        if (fault && offset >= fault.afterBytes) {
          applyFault(res, fault);
          return;
        }
        if (offset >= body.length) {
          res.end();
          return;
        }
        const limit = fault ? Math.min(body.length, fault.afterBytes) : body.length;
        const chunk = body.subarray(offset, Math.min(limit, offset + chunkBytes));
        offset += chunk.length;
        record.bytesSent += chunk.length;
        const ok = res.write(chunk);
        if (trickleMs > 0) {
          later(trickleMs, step);
          return;
        }
        if (!ok) {
          res.once('drain', step);
          return;
        }
      }
    };
    step();
  }

  function serveLive(res: ServerResponse, b: Extract<Behaviour, { kind: 'live' }>, record: OriginRequest, fault: Fault | undefined): void {
    res.writeHead(200, { 'content-type': b.contentType ?? 'video/mp2t', ...(b.headers ?? {}) });
    const chunk = Buffer.alloc(b.chunkBytes ?? 188 * 7, b.fill ?? 0x47);
    const interval = b.intervalMs ?? 5;
    const tick = (): void => {
      if (res.destroyed) return;
      if (fault && record.bytesSent >= fault.afterBytes) {
        applyFault(res, fault);
        return;
      }
      const piece = fault ? chunk.subarray(0, Math.min(chunk.length, fault.afterBytes - record.bytesSent)) : chunk;
      record.bytesSent += piece.length;
      // A live source drops nothing but also never runs ahead of a reader that is not draining.
      if (res.write(piece)) later(interval, tick);
      else res.once('drain', () => later(interval, tick));
    };
    tick();
  }

  function applyFault(res: ServerResponse, fault: Fault): void {
    if (fault.kind === 'stall') return;
    // Let the bytes already written reach the socket before cutting it.
    res.write(Buffer.alloc(0), () => {
      if (fault.kind === 'reset') res.socket?.resetAndDestroy();
      else res.socket?.destroy();
    });
  }

  server.on('connection', (socket: Socket) => {
    totalSockets++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    const done = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    for (const s of sockets) s.destroy();
    await done;
  };
  t.after(close);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new Error('origin did not bind');
  const base = `http://127.0.0.1:${addr.port}`;

  return {
    port: addr.port,
    base,
    url: (path) => base + path,
    set: (path, behaviour) => void table.set(path, behaviour),
    requests,
    hits: (path) => requests.filter((r) => r.path === path),
    lastRequest(path) {
      const hits = requests.filter((r) => r.path === path);
      const last = hits[hits.length - 1];
      if (!last) throw new Error(`origin never saw ${path}`);
      return last;
    },
    get openSockets() {
      return sockets.size;
    },
    get totalSockets() {
      return totalSockets;
    },
    close,
  };
}

/** RFC 9110 §14.1.2 single byte range: 'a-b', 'a-', '-n'; undefined when unsatisfiable or malformed. */
export function parseRange(header: string, size: number): [number, number] | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return undefined;
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(size - 1, Number(m[2]));
  }
  if (start >= size || end < start) return undefined;
  return [start, end];
}

/** A port nothing listens on (bound, noted, closed): connecting to it is refused. */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new Error('no port');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return addr.port;
}
