// A test Server-Sent Events reader: one GET kept open, every `data:` payload parsed as JSON and kept in order.
import { request, type IncomingMessage } from 'node:http';
import type { TestContext } from 'node:test';
import { waitFor } from './origin.ts';

export interface SseReader {
  res: IncomingMessage;
  /** Every payload received so far, oldest first. */
  readonly events: readonly unknown[];
  /** The first payload after index `from` that satisfies `match` (bounded wait). */
  next<T>(match: (e: T) => boolean, from?: number, timeoutMs?: number): Promise<T>;
  /** Resolves when the server ended or cut the response. */
  ended: Promise<void>;
  close(): void;
}

export async function openSse(t: TestContext, url: string): Promise<SseReader> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(url, { agent: false, headers: { accept: 'text/event-stream' } }, resolve);
    req.once('error', reject);
    req.end();
  });
  t.after(() => res.destroy());
  const events: unknown[] = [];
  let buffer = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      if (data !== '') events.push(JSON.parse(data));
    }
  });
  const ended = new Promise<void>((resolve) => res.once('close', () => resolve()));
  return {
    res,
    events,
    async next<T>(match: (e: T) => boolean, from = 0, timeoutMs = 5_000): Promise<T> {
      let found: T | undefined;
      await waitFor(() => (found = (events.slice(from) as T[]).find(match)) !== undefined, timeoutMs, 'a matching event');
      return found as T;
    },
    ended,
    close: () => res.destroy(),
  };
}
