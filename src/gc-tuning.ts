// V8 heap sizing for a byte relay (issue 10 item 8). Measured with --trace-gc on 100 players of 100 unthrottled live
// channels: every relayed chunk is a fresh 64 KiB ArrayBuffer, and with many players each one waits in a socket's
// write queue long enough to survive two scavenges, so it is promoted and only a full mark-compact frees it. V8 counts
// that external memory against the old generation's slack, which it sizes from the live heap: for this server's
// ~10 MB heap (a bare relay, under 8 MB, is below V8's threshold and never pays it) the slack was gone within ~50 ms,
// so a full GC ran 15–20 times a second: half the byte path's CPU (GC helper threads included), and half its rate.
// One player never pays it: its chunks leave before the next scavenge.
import { setFlagsFromString } from 'node:v8';

/** Old-generation growth after a full GC: limit = live heap × (1 + this / 100). V8 picks 10–300 % by itself. */
export const HEAP_GROWING_PERCENT = 300;
const FLAG = '--heap-growing-percent';

/**
 * Fixes V8's growth factor at its own upper bound (V8 still caps the limit halfway to --max-old-space-size), so
 * the in-flight buffers of many players no longer trigger back-to-back full GCs. An operator's own flag wins.
 */
export function tuneHeapForRelay(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env['NODE_OPTIONS'] ?? ''): boolean {
  if (execArgv.some((a) => a.startsWith(FLAG) || a.startsWith('--heap_growing_percent')) || /--heap[-_]growing[-_]percent/.test(nodeOptions)) return false;
  setFlagsFromString(`${FLAG}=${HEAP_GROWING_PERCENT}`);
  return true;
}
