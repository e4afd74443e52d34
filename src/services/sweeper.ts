// The sweeper owns the cleanup timers (SPEC §6, §8): a short tick ends HLS clients idle past CLIENT_TIMEOUT (so a
// viewer that stopped counts as gone within seconds, whatever CLEANUP_INTERVAL is) and refreshes the last_access of
// continuous viewers that are receiving bytes; every CLEANUP_INTERVAL a full pass also removes idle client-less streams.
import type { Registry } from '../core/registry.ts';
import type { Logger } from '../log.ts';
import type { StreamService } from './streams.ts';

export interface SweeperDeps {
  registry: Pick<Registry, 'findExpired' | 'refreshSessions'>;
  /** The stream service is the only registry writer and the one that emits client_disconnected / stream_stopped. */
  streams: Pick<StreamService, 'endClient' | 'expireStream'>;
  logger: Logger;
  clientTimeoutMs: number;
  streamTimeoutMs: number;
  intervalMs: number;
  /** Other periodic clean-ups that share the full pass's timer (abandoned broadcast directories). */
  alsoSweep?: () => void;
}

/** The client tick: at most 1 s (so last_access is never older than that while bytes flow), never slower than the interval. */
export function clientTickMs(clientTimeoutMs: number, intervalMs: number): number {
  return Math.max(50, Math.min(1_000, intervalMs, Math.floor(clientTimeoutMs / 4)));
}

export class Sweeper {
  readonly #deps: SweeperDeps;
  #timer: NodeJS.Timeout | undefined;
  #clientTimer: NodeJS.Timeout | undefined;

  constructor(deps: SweeperDeps) {
    this.#deps = deps;
  }

  /** Starts both timers; idempotent. They are unref'd so they never keep the process alive. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      this.#tick(() => this.sweep());
      this.#deps.alsoSweep?.();
    }, this.#deps.intervalMs);
    this.#timer.unref();
    this.#clientTimer = setInterval(() => this.#tick(() => this.sweepClients()), clientTickMs(this.#deps.clientTimeoutMs, this.#deps.intervalMs));
    this.#clientTimer.unref();
  }

  /** Idempotent. */
  stop(): void {
    clearInterval(this.#timer);
    clearInterval(this.#clientTimer);
    this.#timer = undefined;
    this.#clientTimer = undefined;
  }

  /** One full pass; public so shutdown or a test can run it now. Returns what it removed. */
  sweep(): { clients: number; streams: number } {
    const { registry, streams, clientTimeoutMs, streamTimeoutMs } = this.#deps;
    const expired = registry.findExpired(clientTimeoutMs, streamTimeoutMs);
    // Clients first: a stream whose last clients expire in this pass is then already client-less when it is removed.
    for (const client of expired.clients) streams.endClient(client, 'timeout');
    let removed = 0;
    for (const stream of expired.streams) if (streams.expireStream(stream.id, 'inactive_timeout')) removed += 1;
    return { clients: expired.clients.length, streams: removed };
  }

  /** The short pass: idle HLS clients only (no stream is removed), and continuous viewers' last_access. */
  sweepClients(): { clients: number; streams: number } {
    const { registry, streams, clientTimeoutMs } = this.#deps;
    registry.refreshSessions();
    const expired = registry.findExpired(clientTimeoutMs, Number.POSITIVE_INFINITY);
    for (const client of expired.clients) streams.endClient(client, 'timeout');
    return { clients: expired.clients.length, streams: 0 };
  }

  #tick(pass: () => { clients: number; streams: number }): void {
    try {
      const { clients, streams } = pass();
      if (clients + streams > 0) this.#deps.logger.info('sweeper expired', { clients, streams });
    } catch (err) {
      // An interval callback has no caller to throw to: log once and keep sweeping on the next tick.
      this.#deps.logger.error('sweeper tick failed', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  }
}
