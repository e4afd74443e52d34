// Monotonic counters of the shared live upstreams (SPEC §5.5), read by /metrics and /stats/detailed.

export interface SharingCounters {
  recordJump(skippedBytes: number): void;
  recordViewerTimeout(): void;
  recordOpened(): void;
  snapshot(): Readonly<SharingTotals>;
}

export interface SharingTotals {
  /** Viewers moved to the live edge because they fell behind the queue bound. */
  jumps: number;
  skippedBytes: number;
  /** Viewers cut because they read nothing for the read timeout. */
  viewerTimeouts: number;
  /** Shared upstreams opened since start. */
  opened: number;
}

export function createSharingCounters(): SharingCounters {
  const t: SharingTotals = { jumps: 0, skippedBytes: 0, viewerTimeouts: 0, opened: 0 };
  return {
    recordJump(skipped) {
      t.jumps++;
      t.skippedBytes += skipped;
    },
    recordViewerTimeout() {
      t.viewerTimeouts++;
    },
    recordOpened() {
      t.opened++;
    },
    snapshot: () => ({ ...t }),
  };
}
