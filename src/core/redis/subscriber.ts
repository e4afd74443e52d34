// Pub/sub on its own connection (a subscribed connection accepts nothing else). Channels and patterns are
// remembered and subscribed again after every reconnect; pub/sub is at-most-once, so callers re-read durable
// state after `onReconnect` (research/scale-out.md §2.2).

import type { Socket } from 'node:net';
import { openRedisSocket } from './connection.ts';
import { encodeCommand } from './resp-encode.ts';
import { RespParser, type RespValue } from './resp-parser.ts';
import type { RedisTarget } from './url.ts';

export type MessageHandler = (channel: string, message: Buffer, pattern?: string) => void;

export class RedisSubscriber {
  private socket: Socket | undefined;
  private readonly channels = new Set<string>();
  private readonly patterns = new Set<string>();
  private readonly parser = new RespParser((v) => this.onPush(v));
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private closed = false;
  private live = false;
  private everConnected = false;
  onReconnect: (() => void) | undefined;

  constructor(private readonly target: RedisTarget, private readonly onMessage: MessageHandler, private readonly maxBackoffMs = 2000) {
    this.open();
  }

  get connected(): boolean {
    return this.live;
  }

  subscribe(...channels: string[]): void {
    for (const c of channels) this.channels.add(c);
    this.write(['SUBSCRIBE', ...channels]);
  }

  unsubscribe(...channels: string[]): void {
    for (const c of channels) this.channels.delete(c);
    this.write(['UNSUBSCRIBE', ...channels]);
  }

  psubscribe(...patterns: string[]): void {
    for (const p of patterns) this.patterns.add(p);
    this.write(['PSUBSCRIBE', ...patterns]);
  }

  punsubscribe(...patterns: string[]): void {
    for (const p of patterns) this.patterns.delete(p);
    this.write(['PUNSUBSCRIBE', ...patterns]);
  }

  close(): void {
    this.closed = true;
    this.live = false;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const s = this.socket;
    this.socket = undefined;
    s?.destroy();
  }

  private write(args: string[]): void {
    if (this.live && args.length > 1) this.socket?.write(encodeCommand(args));
  }

  private onPush(v: RespValue): void {
    if (!Array.isArray(v)) return; // +OK of AUTH; an AUTH error closes the socket below via -ERR handling
    const kind = Buffer.isBuffer(v[0]) ? v[0].toString() : '';
    if (kind === 'message' && Buffer.isBuffer(v[1]) && Buffer.isBuffer(v[2])) this.onMessage(v[1].toString(), v[2]);
    else if (kind === 'pmessage' && Buffer.isBuffer(v[1]) && Buffer.isBuffer(v[2]) && Buffer.isBuffer(v[3])) this.onMessage(v[2].toString(), v[3], v[1].toString());
  }

  private open(): void {
    const { username, password } = this.target;
    const socket = openRedisSocket(this.target, this.parser, 2000, (sock) => {
      if (password !== undefined) sock.write(encodeCommand(username === undefined ? ['AUTH', password] : ['AUTH', username, password]));
      this.live = true;
      const again = this.everConnected;
      this.everConnected = true;
      this.attempt = 0;
      this.write(['SUBSCRIBE', ...this.channels]);
      this.write(['PSUBSCRIBE', ...this.patterns]);
      if (again) this.onReconnect?.();
    });
    this.socket = socket;
    socket.on('error', (err) => {
      // 'close' follows and schedules the reconnect; nothing waits on this connection to carry the error to.
      void err;
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.live = false;
      this.parser.reset();
      if (this.closed) return;
      const cap = Math.min(this.maxBackoffMs, 50 * 2 ** this.attempt);
      this.attempt = Math.min(this.attempt + 1, 20);
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = undefined;
        if (!this.closed) this.open();
      }, cap / 2 + Math.random() * (cap / 2));
    });
  }
}
