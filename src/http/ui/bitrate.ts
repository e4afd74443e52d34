// Bit rates for the dashboard's graphs (issue 26): successive byte totals per stream become bit/s. Not wired yet.
export interface BitrateSample {
  streams: Record<string, number>;
  total: number;
}

/** Remembers the last byte totals; each call returns bit/s since the previous one (0 for a stream seen first). */
export function bitrateTracker(): (bytesByStream: ReadonlyMap<string, number>, nowMs: number) => BitrateSample {
  let last = new Map<string, number>();
  let lastAt: number | undefined;
  return (bytesByStream, nowMs) => {
    const seconds = lastAt === undefined ? 0 : (nowMs - lastAt) / 1000;
    const streams: Record<string, number> = {};
    let total = 0;
    for (const [id, bytes] of bytesByStream) {
      const before = last.get(id);
      // A counter that went down means the stream was re-created: start from its new total, no negative rate.
      const delta = before === undefined || bytes < before ? 0 : bytes - before;
      const rate = seconds > 0 ? Math.round((delta * 8) / seconds) : 0;
      streams[id] = rate;
      total += rate;
    }
    last = new Map(bytesByStream);
    lastAt = nowMs;
    return { streams, total };
  };
}
