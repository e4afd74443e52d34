// A full GC once the server has gone idle after a load (issue 24 item 7, SPEC §15: RSS back near idle after a load).
// V8 collects when allocation asks it to, and Node never tells it the process is idle: the garbage a load leaves
// behind (10,000 expired HLS client records, promoted early by the small young generation of gc-tuning.ts) stayed in
// the old generation, and RSS stayed 39 MB over idle a minute after the load, with nothing left to trigger a GC.
// Checked on a coarse timer (no work on the byte path); it collects only while the event loop was almost idle over the
// whole interval and the heap grew by IDLE_GC_GROWTH_BYTES since the last collection, so a busy server never pays it.
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { chosenByOperator } from './gc-tuning.ts';

/** How often the heap is looked at. */
export const IDLE_GC_INTERVAL_MS = 10_000;
/** Event loop utilisation over one interval below which the server counts as idle. */
export const IDLE_GC_MAX_UTILIZATION = 0.02;
/** Heap growth since the last collection that is worth one (a full GC of this heap takes a few ms). */
export const IDLE_GC_GROWTH_BYTES = 4 * 1024 * 1024;

/** Whether to collect now: idle over the last interval, and the heap grew enough since the last collection. */
export function shouldCollect(utilization: number, usedBytes: number, usedAfterLastGc: number): boolean {
  return utilization < IDLE_GC_MAX_UTILIZATION && usedBytes - usedAfterLastGc >= IDLE_GC_GROWTH_BYTES;
}

/**
 * V8's gc() without --expose-gc on the command line: the flag set now shows it in a new context. That context costs
 * ~0.2 MB of heap for good, so it is made at the first collection, not at start-up (an idle server never needs it).
 */
export function gcFunction(): (() => void) | undefined {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
  return typeof gc === 'function' ? compacting(gc as () => void) : undefined;
}

/**
 * The collection made to compact every page. A plain full GC frees only the pages left with no live object: after a
 * load, the few survivors scattered over the old generation kept its pages, 13.5 MB committed for 5.8 MB live, a
 * minute after 10,000 client records expired. V8's memory reducer compacts like this, but it is not armed again until
 * the heap grows by 10 MB past its last run. V8 reads the flag at each full GC, so it is set for this one only; an
 * operator's own --compact-on-every-full-gc (either way) is left as it is.
 */
export function compacting(gc: () => void, operatorChose = chosenByOperator('compact-on-every-full-gc')): () => void {
  if (operatorChose) return gc;
  return () => {
    setFlagsFromString('--compact-on-every-full-gc');
    try {
      gc();
    } finally {
      setFlagsFromString('--no-compact-on-every-full-gc');
    }
  };
}

/** Starts the idle check (an unref'd timer: it never keeps the process alive). Returns a stop function. */
export function startIdleGc(onCollect?: (freedBytes: number) => void, getGc: () => (() => void) | undefined = gcFunction): () => void {
  let gc: (() => void) | undefined;
  let usedAfterLastGc = getHeapStatistics().used_heap_size;
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const utilization = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    const used = getHeapStatistics().used_heap_size;
    // A heap that shrank by itself (V8 collected) is the new baseline.
    if (used < usedAfterLastGc) usedAfterLastGc = used;
    if (!shouldCollect(utilization, used, usedAfterLastGc)) return;
    gc ??= getGc();
    if (gc === undefined) {
      // This V8 offers no gc(): the server runs as before, without the check.
      clearInterval(timer);
      return;
    }
    gc();
    usedAfterLastGc = getHeapStatistics().used_heap_size;
    onCollect?.(used - usedAfterLastGc);
  }, IDLE_GC_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
