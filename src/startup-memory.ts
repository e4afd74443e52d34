// Idle RSS after start-up (issue 24 item 7, SPEC §15: ≤ 45 MB). Loading the server allocates ~3 MB, which makes V8
// scavenge twice (both 1 MB semi-spaces are then committed) and grow the old generation by pages it keeps. V8's memory
// reducer gives them back, but only 8 s after start, and only once its allocation-rate measure (which still counts
// start-up's own allocations) calls the process quiet: idle RSS stayed 2.4 MiB over what the reducer reaches for the
// first 8-16 s, which is when an operator or the bench looks at a fresh process.
//
// So for start-up only: the reducer starts 300 ms after it is told of the start-up garbage, and --optimize-for-size
// (which the reducer reads as "collect now, whatever the rate") is on for the first 1.5 s. Both go back to V8's
// defaults then. Measured on the bundle (`/proc` 1.5 s after start): 47.7 → 45.3 MiB, for two reducing GCs of ~5 ms.
// It has to run before the server's modules: V8 tells the reducer when the old generation has grown 1 MB past its
// size after bootstrap, which happens while they load (src/boot-memory.ts is main.ts's first import).
import { setFlagsFromString } from 'node:v8';
import { chosenByOperator } from './gc-tuning.ts';

export const STARTUP_REDUCER_DELAY_MS = 300;
/** V8's own delay (--gc-memory-reducer-start-delay-ms), set again after the window. */
export const V8_REDUCER_DELAY_MS = 8000;
/** Long enough for the reducer's two collections (~0.5 and ~1.1 s after start). */
export const STARTUP_WINDOW_MS = 1500;

export interface StartupMemoryOptions {
  execArgv?: readonly string[];
  nodeOptions?: string;
  setFlags?: (flags: string) => void;
  windowMs?: number;
}

/** Sets the start-up flags (each unless the operator chose it) and returns the flags set; they are undone after the window. */
export function settleAfterStartup(opts: StartupMemoryOptions = {}): string[] {
  const execArgv = opts.execArgv ?? process.execArgv;
  const nodeOptions = opts.nodeOptions ?? process.env['NODE_OPTIONS'] ?? '';
  const setFlags = opts.setFlags ?? setFlagsFromString;
  const mine = (name: string): boolean => !chosenByOperator(name, execArgv, nodeOptions);
  const set: string[] = [];
  const undo: string[] = [];
  if (mine('gc-memory-reducer-start-delay-ms')) {
    set.push(`--gc-memory-reducer-start-delay-ms=${STARTUP_REDUCER_DELAY_MS}`);
    undo.push(`--gc-memory-reducer-start-delay-ms=${V8_REDUCER_DELAY_MS}`);
  }
  // Without the reducer starting early, optimising for size alone changes nothing at start-up.
  if (set.length > 0 && mine('optimize-for-size')) {
    set.push('--optimize-for-size');
    undo.push('--no-optimize-for-size');
  }
  for (const f of set) setFlags(f);
  if (undo.length > 0) setTimeout(() => undo.forEach(setFlags), opts.windowMs ?? STARTUP_WINDOW_MS).unref();
  return set;
}
