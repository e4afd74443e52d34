// Headless Chromium driven over the DevTools protocol, with node core only: Node 20 may lack globalThis.WebSocket, so
// this holds a minimal WebSocket client (RFC 6455: HTTP upgrade, masked client frames, fragments, ping/pong, close).
//
// Usage:
//   const browser = await launchChromium(t, binary);            // killed and its profile removed in t.after
//   const page = await browser.openPage();                      // a CDP session on the first page target
//   await page.send('Page.enable'); page.on('Runtime.exceptionThrown', (p) => ...);
//   const title = await page.evaluate<string>('document.title');
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { get, request } from 'node:http';
import type { Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { tempDir, trackChild } from './children.ts';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const STEP_TIMEOUT_MS = 30_000;

export interface WebSocketClient {
  send(text: string): void;
  onMessage(fn: (text: string) => void): void;
  /** Resolves when the socket closed (either side). */
  closed: Promise<void>;
  close(): void;
}

/** Encodes one final client frame; RFC 6455 §5.3: a client masks every frame it sends. */
export function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const len = payload.length;
  const head = len < 126 ? Buffer.alloc(2) : len < 65_536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = 0x80 | opcode;
  if (len < 126) head[1] = 0x80 | len;
  else if (len < 65_536) {
    head[1] = 0x80 | 126;
    head.writeUInt16BE(len, 2);
  } else {
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = (payload[i] ?? 0) ^ (mask[i & 3] ?? 0);
  return Buffer.concat([head, mask, body]);
}

interface Frame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
  /** Bytes of the buffer this frame used. */
  size: number;
}

/** Decodes the frame at the start of `buf`, or undefined while it is incomplete. */
export function decodeFrame(buf: Buffer): Frame | undefined {
  if (buf.length < 2) return undefined;
  const b0 = buf[0] ?? 0;
  const b1 = buf[1] ?? 0;
  let len = b1 & 0x7f;
  let offset = 2;
  if (len === 126) {
    if (buf.length < 4) return undefined;
    len = buf.readUInt16BE(2);
    offset = 4;
  } else if (len === 127) {
    if (buf.length < 10) return undefined;
    len = Number(buf.readBigUInt64BE(2));
    offset = 10;
  }
  const masked = (b1 & 0x80) !== 0;
  const maskAt = offset;
  if (masked) offset += 4;
  if (buf.length < offset + len) return undefined;
  const payload = Buffer.from(buf.subarray(offset, offset + len));
  if (masked) for (let i = 0; i < len; i++) payload[i] = (payload[i] ?? 0) ^ (buf[maskAt + (i & 3)] ?? 0);
  return { fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload, size: offset + len };
}

export async function openWebSocket(url: string): Promise<WebSocketClient> {
  const key = randomBytes(16).toString('base64');
  const { socket, head } = await new Promise<{ socket: Socket; head: Buffer }>((resolve, reject) => {
    const req = request(url.replace(/^ws:/, 'http:'), {
      agent: false,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': key },
    });
    const timer = setTimeout(() => req.destroy(new Error('websocket upgrade timed out')), STEP_TIMEOUT_MS);
    req.once('upgrade', (res, sock, rest) => {
      clearTimeout(timer);
      const expected = createHash('sha1').update(key + WS_GUID).digest('base64');
      if (res.headers['sec-websocket-accept'] !== expected) {
        sock.destroy();
        reject(new Error('bad Sec-WebSocket-Accept'));
        return;
      }
      resolve({ socket: sock, head: rest });
    });
    req.once('response', (res) => {
      clearTimeout(timer);
      res.resume();
      reject(new Error(`websocket upgrade refused: ${res.statusCode}`));
    });
    req.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
  const listeners: ((text: string) => void)[] = [];
  let buffer = head;
  let fragments: Buffer[] = [];
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => socket.destroy()); // a reset ends the session: `closed` tells the caller
  const write = (opcode: number, payload: Buffer): void => {
    if (socket.writable) socket.write(encodeFrame(opcode, payload));
  };
  socket.on('data', (chunk: Buffer) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    for (let frame = decodeFrame(buffer); frame !== undefined; frame = decodeFrame(buffer)) {
      buffer = buffer.subarray(frame.size);
      if (frame.opcode === 0x8) {
        write(0x8, frame.payload.subarray(0, 2));
        socket.end();
        return;
      }
      if (frame.opcode === 0x9) write(0xa, frame.payload);
      if (frame.opcode === 0x9 || frame.opcode === 0xa) continue;
      fragments.push(frame.payload);
      if (!frame.fin) continue;
      const text = Buffer.concat(fragments).toString('utf8');
      fragments = [];
      for (const fn of listeners) fn(text);
    }
  });
  return {
    send: (text) => write(0x1, Buffer.from(text, 'utf8')),
    onMessage: (fn) => void listeners.push(fn),
    closed,
    close() {
      write(0x8, Buffer.from([0x03, 0xe8])); // 1000: normal closure
      socket.end();
      setTimeout(() => socket.destroy(), 1_000).unref();
    },
  };
}

export type CdpParams = Record<string, unknown>;

export interface CdpSession {
  send<T = CdpParams>(method: string, params?: CdpParams): Promise<T>;
  on(method: string, fn: (params: CdpParams) => void): void;
  /** The next event `method` whose params satisfy `match`, within a bounded wait. */
  waitForEvent(method: string, match?: (params: CdpParams) => boolean, timeoutMs?: number): Promise<CdpParams>;
  /** Runtime.evaluate by value (promises awaited); a thrown exception rejects. */
  evaluate<T>(expression: string): Promise<T>;
  close(): void;
}

export function cdpSession(ws: WebSocketClient): CdpSession {
  let nextId = 1;
  const pending = new Map<number, { resolve(v: CdpParams): void; reject(e: Error): void; method: string }>();
  const handlers = new Map<string, ((p: CdpParams) => void)[]>();
  ws.onMessage((text) => {
    const msg = JSON.parse(text) as { id?: number; method?: string; params?: CdpParams; result?: CdpParams; error?: { message: string } };
    if (msg.id !== undefined) {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(`${p.method}: ${msg.error.message}`));
      else p?.resolve(msg.result ?? {});
      return;
    }
    if (msg.method) for (const fn of handlers.get(msg.method) ?? []) fn(msg.params ?? {});
  });
  void ws.closed.then(() => {
    for (const p of pending.values()) p.reject(new Error(`${p.method}: DevTools connection closed`));
    pending.clear();
  });
  const on = (method: string, fn: (p: CdpParams) => void): void => {
    handlers.set(method, [...(handlers.get(method) ?? []), fn]);
  };
  const session: CdpSession = {
    send<T = CdpParams>(method: string, params: CdpParams = {}): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${method}: no answer`));
        }, STEP_TIMEOUT_MS);
        const done = (fn: () => void): void => {
          clearTimeout(timer);
          fn();
        };
        pending.set(id, { method, resolve: (v) => done(() => resolve(v as T)), reject: (e) => done(() => reject(e)) });
        ws.send(JSON.stringify({ id, method, params }));
      });
    },
    on,
    waitForEvent(method, match = () => true, timeoutMs = STEP_TIMEOUT_MS) {
      return new Promise<CdpParams>((resolve, reject) => {
        let settled = false;
        const timer = setTimeout(() => {
          settled = true;
          reject(new Error(`timed out waiting for ${method}`));
        }, timeoutMs);
        on(method, (p) => {
          if (settled || !match(p)) return;
          settled = true;
          clearTimeout(timer);
          resolve(p);
        });
      });
    },
    async evaluate<T>(expression: string): Promise<T> {
      const r = await session.send<{ result: { value?: unknown }; exceptionDetails?: { text: string; exception?: { description?: string } } }>(
        'Runtime.evaluate',
        { expression, returnByValue: true, awaitPromise: true },
      );
      if (r.exceptionDetails) throw new Error(`evaluate: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
      return r.result.value as T;
    },
    close: () => ws.close(),
  };
  return session;
}

export interface Browser {
  /** The DevTools HTTP endpoint, http://127.0.0.1:port. */
  endpoint: string;
  /** A CDP session on the browser's first page target (closed in t.after). */
  openPage(): Promise<CdpSession>;
}

/**
 * Headless Chromium with a fresh profile on --remote-debugging-port=0. In t.after it is asked to stop (SIGTERM, so it
 * takes its renderers down), killed after 3 s, awaited, and only then is its profile removed (the tempDir hook,
 * registered after the stop hook, so it runs after it); children.ts kills it even if an earlier hook threw.
 */
export async function launchChromium(t: TestContext, binary: string, extra: string[] = []): Promise<Browser> {
  let child: ChildProcess | undefined;
  const sessions: CdpSession[] = [];
  t.after(async () => {
    for (const s of sessions) s.close();
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child?.once('close', () => resolve()));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child?.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(killer);
  });
  const profile = await tempDir(t, 'm3u-e2e-cdp-');
  const args = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--no-default-browser-check',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
    '--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0', `--user-data-dir=${profile}`, ...extra, 'about:blank',
  ];
  const browser = trackChild(t, spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] }));
  child = browser;
  const exited = new Promise<void>((resolve) => browser.once('close', () => resolve()));
  let stderr = '';
  const wsUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no DevTools address from chromium:\n${stderr.slice(-2000)}`)), STEP_TIMEOUT_MS);
    browser.stderr.setEncoding('utf8');
    browser.stderr.on('data', (chunk: string) => {
      // Keep only the tail: Chromium can be chatty on stderr for as long as it runs.
      stderr = (stderr + chunk).slice(-8_000);
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    browser.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`chromium exited (${browser.exitCode ?? browser.signalCode}):\n${stderr.slice(-2000)}`));
    });
  });
  const endpoint = new URL(wsUrl.replace(/^ws:/, 'http:')).origin;
  return {
    endpoint,
    async openPage() {
      const targets = await getJson<{ type: string; webSocketDebuggerUrl?: string }[]>(`${endpoint}/json/list`);
      const page = targets.find((x) => x.type === 'page' && x.webSocketDebuggerUrl);
      assert.ok(page?.webSocketDebuggerUrl, `no page target: ${JSON.stringify(targets)}`);
      const session = cdpSession(await openWebSocket(page.webSocketDebuggerUrl));
      sessions.push(session);
      return session;
    },
  };
}

function getJson<T>(url: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const req = get(url, { agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(text) as T);
        } catch (err) {
          reject(new Error(`${url}: not JSON (${String(err)}): ${text.slice(0, 200)}`));
        }
      });
    });
    req.setTimeout(STEP_TIMEOUT_MS, () => req.destroy(new Error(`${url}: timed out`)));
    req.once('error', reject);
  });
}
