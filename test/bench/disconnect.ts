// Disconnect-to-upstream-closed time: a player reading a live stream aborts, and the in-process origin notes when
// the upstream socket closes. Player and origin share this process, so both instants are on one clock.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Origin } from './origin.ts';

/** How long to wait for the origin socket to close before counting the trial as a miss. */
export const CLOSE_WAIT_MS = 2000;
const BYTES_BEFORE_ABORT = 64 * 1024;

/**
 * One trial: GET `url` (which reaches `/live/<tag>.ts` on `origin`), read 64 KiB, destroy the request, and return the
 * milliseconds until the origin saw its socket close (Infinity when it did not within CLOSE_WAIT_MS), or an error text.
 */
export async function disconnectTrial(url: string, origin: Origin, tag: string): Promise<number | string> {
  const abortedAt = await new Promise<number | string>((resolve) => {
    let got = 0;
    const req = http.get(url, { agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        resolve(`status ${res.statusCode}`);
        return;
      }
      res.on('data', (chunk: Buffer) => {
        got += chunk.length;
        if (got >= BYTES_BEFORE_ABORT && !req.destroyed) {
          const t = performance.now();
          req.destroy();
          resolve(t);
        }
      });
      res.on('error', () => undefined); // our own destroy
    });
    req.setTimeout(5000, () => req.destroy(new Error('no data in 5 s')));
    req.on('error', (err) => {
      if (!req.destroyed || err.message.startsWith('no data')) resolve(err.message);
    });
  });
  if (typeof abortedAt === 'string') return abortedAt;
  const deadline = abortedAt + CLOSE_WAIT_MS;
  for (;;) {
    const closed = origin.closedAt(tag);
    if (closed !== undefined) return Math.max(0, closed - abortedAt);
    if (performance.now() > deadline) return Number.POSITIVE_INFINITY;
    await new Promise((r) => setTimeout(r, 1));
  }
}
