// V8 heap and GC settings for a byte relay (issues 10.8 and 24.7), measured on 100 players of 100 unthrottled live
// channels on a 2-core machine.
// - Heap growth. Every relayed chunk is a fresh 64 KiB ArrayBuffer, and with many players each one waits in a socket's
//   write queue long enough to survive two scavenges, so it is promoted and only a full mark-compact frees it. V8
//   counts that external memory against the old generation's slack, which it sizes from the live heap: for this
//   server's ~10 MB heap (a bare relay, under 8 MB, is below V8's threshold and never pays it) the slack was gone within
//   ~50 ms, so a full GC ran 15–20 times a second: half the byte path's CPU (GC helper threads included), and half its
//   rate. One player never pays it: its chunks leave before the next scavenge.
// - ArrayBuffer sweeping on the main thread. A scavenge runs every ~20 ms at this rate (one per ~16 MB of new
//   buffers) and frees ~250 of them; V8 hands that sweep to a helper thread each time, and on a busy 2-core machine
//   waking and synchronising that thread cost more than the sweep (~0.3 ms more per scavenge done inline). Measured
//   against the build without it, interleaved: 0.82–0.84× the CPU per GB, 1.1× the bytes per second (medians of 10–12
//   runs). `--single-threaded-gc` did as well (0.87×) but cannot be set once V8 runs: it crashed cppgc's marker.
//   One channel with 200 viewers (few buffers, many writes) showed no clear change: 0.75–1.01 CPU s/GB with it, 0.71–0.96
//   without, over 5 and 4 noisy runs (`npm run bench -- --only=shared`).
// - Young generation size (issue 24 item 7). V8 doubles the semi-spaces up to 16 MB each as a server allocates, and a
//   relay allocates steadily (a write request per player per chunk): the young generation alone grew by 19 MB under 500
//   viewers of one 4 Mbit/s channel and stayed that size. Pinned at its first size (1 MB semi-spaces, growth factor
//   1), RSS per viewer at 500 viewers went from 42.6 to 20.0 KB (`npm run bench -- --only=memory`), with no change
//   in CPU per GB beyond the noise on 100 unthrottled channels (live-floor.ts, 2 × 4 runs each: 1.41, 1.39 CPU s/GB
//   with growth, 1.39, 1.44 without). It is the only semi-space setting V8 still takes once it runs
//   (--max-semi-space-size is read when the heap is made), so every way of starting gets it; an operator's own
//   --max-semi-space-size, --min-semi-space-size or --semi-space-growth-factor wins.
import { setFlagsFromString } from 'node:v8';

/** Old-generation growth after a full GC: limit = live heap × (1 + this / 100). V8 picks 10–300 % by itself. */
export const HEAP_GROWING_PERCENT = 300;

/**
 * Each V8 flag set for the relay, by name (either spelling is recognised in what the operator passed); `or`: other
 * flags that, when the operator set one, mean the same choice was made.
 */
const RELAY_FLAGS: ReadonlyArray<{ name: string; flag: string; or?: readonly string[] }> = [
  // V8 still caps the limit halfway to --max-old-space-size.
  { name: 'heap-growing-percent', flag: `--heap-growing-percent=${HEAP_GROWING_PERCENT}` },
  { name: 'concurrent-array-buffer-sweeping', flag: '--no-concurrent-array-buffer-sweeping' },
  // 0 crashes V8; 1 keeps the semi-spaces at their first size.
  { name: 'semi-space-growth-factor', flag: '--semi-space-growth-factor=1', or: ['max-semi-space-size', 'min-semi-space-size'] },
];

/** Whether the operator set (or negated, `--no-…`) this flag on the command line or in NODE_OPTIONS. */
export function chosenByOperator(name: string, execArgv: readonly string[] = process.execArgv, nodeOptions = process.env['NODE_OPTIONS'] ?? ''): boolean {
  const pattern = new RegExp(`--(no[-_]?)?${name.replace(/-/g, '[-_]')}(?![-_\\w])`);
  return execArgv.some((a) => pattern.test(a)) || pattern.test(nodeOptions);
}

/**
 * Sets the relay's V8 flags (see above), each unless the operator chose it: an operator's own flag wins.
 * Returns the flags set.
 */
export function tuneHeapForRelay(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env['NODE_OPTIONS'] ?? ''): string[] {
  const set: string[] = [];
  for (const { name, flag, or = [] } of RELAY_FLAGS) {
    if ([name, ...or].some((n) => chosenByOperator(n, execArgv, nodeOptions))) continue;
    setFlagsFromString(flag);
    set.push(flag);
  }
  return set;
}
