// The sweeper owns the cleanup interval (SPEC §8): each tick ends idle HLS clients and removes idle client-less streams.
import type { Registry } from '../core/registry.ts';
import type { Logger } from '../log.ts';
import type { StreamService } from './streams.ts';

export interface SweeperDeps {
  registry: Pick<Registry, 'findExpired'>;
  /** The stream service is the only registry writer and the one that emits client_disconnected / stream_stopped. */
  streams: Pick<StreamService, 'endClient' | 'expireStream'>;
  logger: Logger;
  clientTimeoutMs: number;
  streamTimeoutMs: number;
  intervalMs: number;
}

export class Sweeper {
  readonly #deps: SweeperDeps;
  #timer: NodeJS.Timeout | undefined;

  constructor(deps: SweeperDeps) {
    this.#deps = deps;
  }

  /** Starts the interval; idempotent. The timer is unref'd so it never keeps the process alive. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.#tick(), this.#deps.intervalMs);
    this.#timer.unref();
  }

  /** Idempotent. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One pass; public so shutdown or a test can run it now. Returns what it removed. */
  sweep(): { clients: number; streams: number } {
    const { registry, streams, clientTimeoutMs, streamTimeoutMs } = this.#deps;
    const expired = registry.findExpired(clientTimeoutMs, streamTimeoutMs);
    // Clients first: a stream whose last clients expire in this pass is then already client-less when it is removed.
    for (const client of expired.clients) streams.endClient(client, 'timeout');
    let removed = 0;
    for (const stream of expired.streams) if (streams.expireStream(stream.id, 'timeout')) removed += 1;
    return { clients: expired.clients.length, streams: removed };
  }

  #tick(): void {
    try {
      const { clients, streams } = this.sweep();
      if (clients + streams > 0) this.#deps.logger.info('sweeper expired', { clients, streams });
    } catch (err) {
      // An interval callback has no caller to throw to: log once and keep sweeping on the next tick.
      this.#deps.logger.error('sweeper tick failed', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  }
}
