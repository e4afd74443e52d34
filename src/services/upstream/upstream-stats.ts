// Upstream counters behind /stats/detailed and /metrics: errors by kind, failovers, pool sockets and current throughput.
import type { HostSockets } from '../../core/upstream/agents.ts';
import type { UpstreamErrorKind } from '../../core/upstream/client.ts';

export interface UpstreamStatsDeps {
  /** Pool sockets per host, read on demand. */
  sockets(): readonly HostSockets[];
  /** Monotonic bytes written to players (the registry's total). */
  totalBytes(): number;
  now?: () => number;
}

export interface UpstreamCounters {
  /** A connection moved itself to another URL of the ring after a failure. */
  automaticFailovers: number;
  /** Player connections moved by a manual failover (POST /streams/{id}/failover). */
  manualSwitches: number;
  /** Mid-stream reconnects that resumed delivery (same URL or another). */
  reconnects: number;
}

export interface Throughput {
  bytesPerSecond: number;
  /** The span the rate was measured over. */
  windowSeconds: number;
}

const SAMPLE_RING_SIZE = 32;
/** The rate compares against the newest sample at least this old, so "now" means roughly the last few seconds. */
const MIN_WINDOW_MS = 1_000;

export type UpstreamStats = ReturnType<typeof createUpstreamStats>;

export function createUpstreamStats(deps: UpstreamStatsDeps) {
  const now = deps.now ?? Date.now;
  const errors: Record<string, number> = {};
  const counters: UpstreamCounters = { automaticFailovers: 0, manualSwitches: 0, reconnects: 0 };
  // Ring of (time, total bytes) samples taken when someone asks for the rate: no timer needed.
  const sampleT = new Array<number>(SAMPLE_RING_SIZE).fill(0);
  const sampleB = new Array<number>(SAMPLE_RING_SIZE).fill(0);
  let head = 0;
  let filled = 0;

  function sample(): void {
    sampleT[head] = now();
    sampleB[head] = deps.totalBytes();
    head = (head + 1) % SAMPLE_RING_SIZE;
    if (filled < SAMPLE_RING_SIZE) filled++;
  }
  sample();

  return {
    recordError(kind: UpstreamErrorKind): void {
      errors[kind] = (errors[kind] ?? 0) + 1;
    },
    recordFailover(): void {
      counters.automaticFailovers++;
    },
    recordManualSwitch(): void {
      counters.manualSwitches++;
    },
    recordReconnect(): void {
      counters.reconnects++;
    },
    /** Monotonic failure counts by kind (the metrics source shape). */
    errors(): Readonly<Record<string, number>> {
      return { ...errors };
    },
    counters(): Readonly<UpstreamCounters> {
      return { ...counters };
    },
    sockets(): readonly HostSockets[] {
      return deps.sockets();
    },
    /** Bytes/s between now and the newest earlier sample at least a second old (or the oldest one kept). */
    throughput(): Throughput {
      const t = now();
      const bytes = deps.totalBytes();
      let refT = t;
      let refB = bytes;
      for (let i = 1; i <= filled; i++) {
        const k = (head - i + SAMPLE_RING_SIZE) % SAMPLE_RING_SIZE;
        refT = sampleT[k] ?? t;
        refB = sampleB[k] ?? bytes;
        if (t - refT >= MIN_WINDOW_MS) break;
      }
      sample();
      const dt = t - refT;
      return { bytesPerSecond: dt > 0 ? Math.round(((bytes - refB) * 1000) / dt) : 0, windowSeconds: dt / 1000 };
    },
  };
}
