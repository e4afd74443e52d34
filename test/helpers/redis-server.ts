// A real redis-server for integration tests: a free port on 127.0.0.1, no persistence, killed on stop.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import type { TestContext } from 'node:test';
import { trackChild } from './children.ts';

const BINARY = '/usr/bin/redis-server';

/** True when redis-server is there; otherwise skips with the reason, except on CI where it is a failure. */
export function requireRedis(t: TestContext): boolean {
  if (existsSync(BINARY)) return true;
  const reason = `${BINARY} not installed (Debian package redis-server)`;
  assert.ok(process.env['CI'] !== 'true', `${reason}: required on CI`);
  console.log(`# skipping: ${reason}`);
  t.skip(reason);
  return false;
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  assert.ok(addr !== null && typeof addr === 'object');
  return addr.port;
}

export class RedisServer {
  private child: ChildProcess | undefined;
  constructor(readonly port: number, private readonly password?: string) {}

  static async start(password?: string): Promise<RedisServer> {
    const s = new RedisServer(await freePort(), password);
    await s.startProcess();
    return s;
  }

  async startProcess(): Promise<void> {
    const args = ['--port', String(this.port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'];
    if (this.password !== undefined) args.push('--requirepass', this.password);
    const child = trackChild(undefined, spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'inherit'] }));
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited ${code}: ${out}`));
      });
    });
    child.stdout?.resume();
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
      child.kill('SIGCONT'); // a paused server dies only once continued
    });
  }

  /** SIGSTOP/SIGCONT: the server keeps its data but answers nothing, like a partition. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.startProcess();
  }
}
