// V8 heap and GC settings for a byte relay (issue 10 item 8), measured on 100 players of 100 unthrottled live
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
import { setFlagsFromString } from 'node:v8';

/** Old-generation growth after a full GC: limit = live heap × (1 + this / 100). V8 picks 10–300 % by itself. */
export const HEAP_GROWING_PERCENT = 300;

/** Each V8 flag set for the relay, by name (either spelling is recognised in what the operator passed). */
const RELAY_FLAGS: ReadonlyArray<{ name: string; flag: string }> = [
  // V8 still caps the limit halfway to --max-old-space-size.
  { name: 'heap-growing-percent', flag: `--heap-growing-percent=${HEAP_GROWING_PERCENT}` },
  { name: 'concurrent-array-buffer-sweeping', flag: '--no-concurrent-array-buffer-sweeping' },
];

/** Whether the operator set (or negated, `--no-…`) this flag on the command line or in NODE_OPTIONS. */
function chosenByOperator(name: string, execArgv: readonly string[], nodeOptions: string): boolean {
  const pattern = new RegExp(`--(no[-_]?)?${name.replace(/-/g, '[-_]')}(?![-_\\w])`);
  return execArgv.some((a) => pattern.test(a)) || pattern.test(nodeOptions);
}

/**
 * Sets the relay's V8 flags (see above), each unless the operator chose it: an operator's own flag wins.
 * Returns the flags set.
 */
export function tuneHeapForRelay(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env['NODE_OPTIONS'] ?? ''): string[] {
  const set: string[] = [];
  for (const { name, flag } of RELAY_FLAGS) {
    if (chosenByOperator(name, execArgv, nodeOptions)) continue;
    setFlagsFromString(flag);
    set.push(flag);
  }
  return set;
}
