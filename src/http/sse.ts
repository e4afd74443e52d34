// A Server-Sent Events broadcaster: one timer for all subscribers, running only while someone listens; each tick
// serialises one payload and writes it to every open response. A subscriber leaves when its client closes.
import type { ServerResponse } from 'node:http';

export interface SseHubOptions {
  /** Builds the payload of one tick; called once per tick whatever the number of subscribers. */
  payload(): unknown;
  intervalMs: number;
  /** Told when building a payload throws (the tick is skipped, the timer keeps going). */
  onError(err: unknown): void;
}

export interface SseHub {
  /** Sends the SSE headers and a first payload now, then one every interval until the client closes. */
  subscribe(res: ServerResponse): void;
  /** Open subscriber responses. */
  size(): number;
  /** True while the shared timer runs (exactly when size() > 0). */
  ticking(): boolean;
  /** Ends every subscriber and stops the timer (shutdown). */
  close(): void;
}

/** Tells EventSource how long to wait before reconnecting after the connection dropped. */
const RETRY_MS = 2_000;

export function createSseHub(opts: SseHubOptions): SseHub {
  const subscribers = new Set<ServerResponse>();
  let timer: NodeJS.Timeout | undefined;

  function frame(): string | undefined {
    try {
      return `data: ${JSON.stringify(opts.payload())}\n\n`;
    } catch (err) {
      opts.onError(err);
      return undefined;
    }
  }

  function send(res: ServerResponse, text: string): void {
    // Each payload is a whole state, so a subscriber that has not drained the last one simply misses this one:
    // a stalled client costs one payload of buffer, not one per second.
    if (!res.writableNeedDrain) res.write(text);
  }

  function tick(): void {
    const text = frame();
    if (text !== undefined) for (const res of subscribers) send(res, text);
  }

  function leave(res: ServerResponse): void {
    subscribers.delete(res);
    if (subscribers.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  }

  return {
    subscribe(res) {
      // A client gone before its turn came would never emit 'close' again: nothing to add.
      if (res.destroyed) return;
      res.statusCode = 200;
      res.setHeader('content-type', 'text/event-stream; charset=utf-8');
      res.setHeader('cache-control', 'no-store');
      // nginx (m3u-editor's) buffers proxied responses by default: this header turns that off for this one.
      res.setHeader('x-accel-buffering', 'no');
      // HEAD has no body, so nothing to subscribe to: an open HEAD response would only wait for its client to leave.
      if (res.req.method === 'HEAD') {
        res.end();
        return;
      }
      subscribers.add(res);
      res.once('close', () => leave(res));
      res.write(`retry: ${RETRY_MS}\n\n`);
      const text = frame();
      if (text !== undefined) send(res, text);
      // Unref'd: an open subscriber holds its socket anyway, and the timer alone must not keep a process alive.
      timer ??= setInterval(tick, opts.intervalMs).unref();
    },
    size: () => subscribers.size,
    ticking: () => timer !== undefined,
    close() {
      for (const res of [...subscribers]) {
        leave(res);
        res.end();
      }
    },
  };
}
