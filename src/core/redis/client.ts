// A pipelining Redis client over one connection: replies match commands FIFO. AUTH and SELECT run again on
// every (re)connect. While disconnected, commands fail fast with REDIS_UNAVAILABLE (no queue: a cluster node must
// learn at once that it cannot reach Redis, e.g. to drop a lease) and the client reconnects in the background
// with capped exponential back-off and jitter.

import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { openRedisSocket } from './connection.ts';
import { RedisError, RedisReplyError } from './errors.ts';
import { encodeCommand, type RedisArg } from './resp-encode.ts';
import { RespErrorReply, RespParser, type RespValue } from './resp-parser.ts';
import type { RedisTarget } from './url.ts';

export interface RedisClientOptions {
  /** Per-command timeout; a command without a reply by then fails with REDIS_TIMEOUT and the connection is reset. */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
}

interface Pending {
  resolve: (v: RespValue) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

export class RedisClient {
  private socket: Socket | undefined;
  private ready = false;
  private closed = false;
  private readonly pending: Pending[] = [];
  private readonly parser = new RespParser((v) => this.onReply(v));
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private readyWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private readonly opts: Required<RedisClientOptions>;

  constructor(private readonly target: RedisTarget, options: RedisClientOptions = {}) {
    this.opts = { commandTimeoutMs: 2000, connectTimeoutMs: 2000, reconnectBaseMs: 50, reconnectMaxMs: 2000, ...options };
    this.open();
  }

  get connected(): boolean {
    return this.ready;
  }

  /** Resolves once connected and authenticated; rejects if the first attempt fails. */
  waitReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    if (this.closed) return Promise.reject(new RedisError('REDIS_CLOSED', 'Redis client is closed'));
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  command(args: readonly RedisArg[]): Promise<RespValue> {
    if (this.closed) return Promise.reject(new RedisError('REDIS_CLOSED', 'Redis client is closed'));
    if (!this.ready) return Promise.reject(new RedisError('REDIS_UNAVAILABLE', `Redis at ${this.target.host}:${this.target.port} is not connected`));
    return this.send(args);
  }

  /** EVALSHA, loading the script on NOSCRIPT (after a restart or FLUSH the cache is empty). */
  async eval(script: string, keys: readonly RedisArg[], args: readonly RedisArg[]): Promise<RespValue> {
    const sha = createHash('sha1').update(script).digest('hex');
    try {
      return await this.command(['EVALSHA', sha, keys.length, ...keys, ...args]);
    } catch (err) {
      if (!(err instanceof RedisReplyError) || err.prefix !== 'NOSCRIPT') throw err;
      await this.command(['SCRIPT', 'LOAD', script]);
      return this.command(['EVALSHA', sha, keys.length, ...keys, ...args]);
    }
  }

  /** Sends QUIT when connected, then closes; leaves no socket or timer. */
  async quit(): Promise<void> {
    if (this.ready && !this.closed) {
      try {
        await this.send(['QUIT']);
      } catch (err) {
        // The server may close before answering; the close below is what matters.
        void err;
      }
    }
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.teardown(new RedisError('REDIS_CLOSED', 'Redis client is closed'));
  }

  private send(args: readonly RedisArg[]): Promise<RespValue> {
    const socket = this.socket as Socket;
    return new Promise((resolve, reject) => {
      const p: Pending = { resolve, reject, timer: undefined };
      p.timer = setTimeout(() => {
        // Replies are FIFO: one lost reply desynchronises the rest, so the connection is reset.
        this.teardown(new RedisError('REDIS_TIMEOUT', `Redis command ${String(args[0])} timed out after ${this.opts.commandTimeoutMs} ms`));
        this.scheduleReconnect();
      }, this.opts.commandTimeoutMs);
      this.pending.push(p);
      socket.write(encodeCommand(args));
    });
  }

  private onReply(v: RespValue): void {
    const p = this.pending.shift();
    if (p === undefined) return; // a reply after its command timed out on a reset connection cannot arrive; ignore
    clearTimeout(p.timer);
    if (v instanceof RespErrorReply) p.reject(new RedisReplyError(v.message));
    else p.resolve(v);
  }

  private open(): void {
    const { host, port } = this.target;
    const socket = openRedisSocket(this.target, this.parser, this.opts.connectTimeoutMs, (s) => void this.handshake(s));
    this.socket = socket;
    socket.on('error', (err) => {
      // 'close' follows and handles it; the error is the cause carried to pending commands.
      this.lastError = err;
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      const cause = this.lastError;
      this.teardown(new RedisError('REDIS_UNAVAILABLE', `Redis connection to ${host}:${port} lost`, { cause }));
      this.scheduleReconnect();
    });
  }

  private lastError: Error | undefined;

  private async handshake(socket: Socket): Promise<void> {
    try {
      const { username, password, db } = this.target;
      if (password !== undefined) await this.send(username === undefined ? ['AUTH', password] : ['AUTH', username, password]);
      if (db !== 0) await this.send(['SELECT', db]);
    } catch (err) {
      const waiters = this.readyWaiters;
      this.readyWaiters = [];
      for (const w of waiters) w.reject(err as Error);
      socket.destroy();
      return;
    }
    if (this.socket !== socket) return;
    this.ready = true;
    this.attempt = 0;
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w.resolve();
  }

  private teardown(err: Error): void {
    this.ready = false;
    this.parser.reset();
    const socket = this.socket;
    this.socket = undefined;
    this.lastError = undefined;
    socket?.destroy();
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    if (this.closed) {
      for (const w of this.readyWaiters.splice(0)) w.reject(err);
    }
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer !== undefined) return;
    const cap = Math.min(this.opts.reconnectMaxMs, this.opts.reconnectBaseMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 20);
    const delay = cap / 2 + Math.random() * (cap / 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.closed) this.open();
    }, delay);
  }
}
