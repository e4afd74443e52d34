// A test player: one real HTTP GET that keeps every byte it receives, with awaitable milestones.
import { createHash } from 'node:crypto';
import { request, type IncomingMessage } from 'node:http';
import type { TestContext } from 'node:test';
import { waitFor } from './origin.ts';

export interface Player {
  res: IncomingMessage;
  readonly bytes: number;
  /** The last byte received, or -1: live origins fill chunks with one value, so this tells which origin is playing. */
  readonly lastByte: number;
  body(): Buffer;
  md5(): string;
  /** Resolves once the player received at least `n` bytes (bounded wait). */
  waitBytes(n: number, timeoutMs?: number): Promise<void>;
  /** Resolves when the response ended or was cut: `complete` is true only for a clean end. */
  done: Promise<{ complete: boolean }>;
  /** Leaves: destroys the connection. */
  leave(): void;
}

export function md5(b: Buffer): string {
  return createHash('md5').update(b).digest('hex');
}

/** Opens `url` (GET unless given) and collects the body; the connection is destroyed in t.after. */
export async function openPlayer(t: TestContext, url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Player> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, resolve);
    req.once('error', reject);
    req.end();
  });
  t.after(() => res.destroy());
  const chunks: Buffer[] = [];
  let bytes = 0;
  let lastByte = -1;
  res.on('data', (c: Buffer) => {
    chunks.push(c);
    bytes += c.length;
    lastByte = c[c.length - 1] ?? lastByte;
  });
  const done = new Promise<{ complete: boolean }>((resolve) => {
    let complete = false;
    res.once('end', () => (complete = true));
    res.once('error', () => resolve({ complete: false }));
    res.once('close', () => resolve({ complete }));
  });
  return {
    res,
    get bytes() {
      return bytes;
    },
    get lastByte() {
      return lastByte;
    },
    body: () => Buffer.concat(chunks),
    md5: () => md5(Buffer.concat(chunks)),
    waitBytes: (n, timeoutMs = 5_000) => waitFor(() => bytes >= n, timeoutMs, `${n} bytes at the player`),
    done,
    leave: () => res.destroy(),
  };
}

/**
 * A player that asks for `url`, leaves as soon as the proxy reached the origin (before any answer reached it), and
 * resolves once the origin saw the proxy's socket close (bounded): a leaving player must release the upstream at once.
 */
export async function leaveWhileOpening(url: string, origin: { readonly openSockets: number }): Promise<void> {
  const ac = new AbortController();
  const pending = fetch(url, { signal: ac.signal }).catch((err: unknown) => err);
  await waitFor(() => origin.openSockets === 1, 2_000, 'the proxy reached the origin');
  ac.abort();
  await pending;
  await waitFor(() => origin.openSockets === 0, 5_000, 'the upstream socket closed after the player left');
}
