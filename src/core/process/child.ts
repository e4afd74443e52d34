// One external program the proxy runs (FFmpeg, streamlink, yt-dlp): spawned without a shell in its own process group,
// stderr always drained (a full pipe would stall it), stopped by signalling the whole group so its own children go too.
// This is the only place that spawns or signals a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';

export interface ChildExit {
  /** Exit code; null when killed by a signal or never spawned. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The spawn failed: `ENOENT` the program is missing, `EACCES` it is not executable. */
  spawnError?: NodeJS.ErrnoException;
}

export interface ChildOptions {
  command: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** 'pipe': `stdout` is a Readable the caller consumes (with backpressure); 'ignore': /dev/null. */
  stdout: 'pipe' | 'ignore';
  /** Every stderr line, split on CR and LF (FFmpeg ends progress lines with CR), cut at MAX_LINE_CHARS. */
  onStderrLine?(line: string): void;
  /** stderr lines kept for diagnostics (the last ones), default 20. */
  keepLines?: number;
}

/** A stderr line longer than this is cut: a program that prints no newline must not grow memory. */
export const MAX_LINE_CHARS = 4096;
export const DEFAULT_STOP_GRACE_MS = 5000;

export class Child {
  readonly pid: number | undefined;
  readonly stdout: Readable | null;
  readonly exited: Promise<ChildExit>;
  readonly #proc: ChildProcess;
  readonly #keep: number;
  readonly #lines: string[] = [];
  #partial = '';
  #exit: ChildExit | undefined;
  #stopping: Promise<ChildExit> | undefined;
  readonly #onLine: ((line: string) => void) | undefined;

  constructor(options: ChildOptions) {
    this.#keep = Math.max(1, options.keepLines ?? 20);
    this.#onLine = options.onStderrLine;
    this.#proc = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', options.stdout, 'pipe'],
      detached: true,
      shell: false,
      windowsHide: true,
    });
    this.pid = this.#proc.pid;
    this.stdout = this.#proc.stdout;
    this.exited = new Promise<ChildExit>((resolve) => {
      const finish = (exit: ChildExit): void => {
        if (this.#exit !== undefined) return;
        this.#flushPartial();
        this.#exit = exit;
        resolve(exit);
      };
      this.#proc.once('error', (err: NodeJS.ErrnoException) => {
        // 'error' after a successful spawn means a failed kill(), which signalGroup() reports itself.
        if (this.pid === undefined) finish({ code: null, signal: null, spawnError: err });
      });
      // 'close' (not 'exit'): stdio is fully read by then, so the last stderr lines are in lastLines().
      this.#proc.once('close', (code, signal) => finish({ code, signal }));
    });
    const stderr = this.#proc.stderr;
    if (stderr) {
      stderr.setEncoding('utf8');
      stderr.on('data', (text: string) => this.#takeStderr(text));
    }
  }

  get running(): boolean {
    return this.#exit === undefined && this.pid !== undefined;
  }

  get exit(): ChildExit | undefined {
    return this.#exit;
  }

  /** The kept stderr lines, oldest first. */
  lastLines(): string[] {
    return [...this.#lines];
  }

  /** SIGTERM to the group, SIGKILL to the group after graceMs if it is still there; idempotent. */
  stop(graceMs = DEFAULT_STOP_GRACE_MS): Promise<ChildExit> {
    if (this.#exit !== undefined) return Promise.resolve(this.#exit);
    if (this.#stopping === undefined) {
      this.#signalGroup('SIGTERM');
      // FFmpeg blocked on a full stdout pipe (its reader paused, its viewers gone) restarts the write after its
      // SIGTERM handler and never gets to exit before SIGKILL: what it still writes is read and dropped.
      this.stdout?.resume();
      const timer = setTimeout(() => this.#signalGroup('SIGKILL'), graceMs);
      timer.unref();
      this.#stopping = this.exited.finally(() => clearTimeout(timer));
    }
    return this.#stopping;
  }

  /** SIGKILL to the group now. */
  kill(): void {
    if (this.#exit === undefined) this.#signalGroup('SIGKILL');
  }

  #signalGroup(signal: NodeJS.Signals): void {
    if (this.pid === undefined) return;
    try {
      // Negative pid: the whole group (detached made the child its leader).
      process.kill(-this.pid, signal);
    } catch (err) {
      // ESRCH: the group is gone already (exited between our check and the signal); 'close' follows or came.
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  #takeStderr(text: string): void {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.#line(this.#partial + text.slice(start, i));
      this.#partial = '';
      start = i + 1;
    }
    if (start < text.length) {
      this.#partial += text.slice(start);
      if (this.#partial.length >= MAX_LINE_CHARS) {
        this.#line(this.#partial);
        this.#partial = '';
      }
    }
  }

  #flushPartial(): void {
    if (this.#partial !== '') this.#line(this.#partial);
    this.#partial = '';
  }

  #line(raw: string): void {
    if (raw === '') return; // CRLF and blank lines
    const line = raw.length > MAX_LINE_CHARS ? raw.slice(0, MAX_LINE_CHARS) : raw;
    this.#lines.push(line);
    if (this.#lines.length > this.#keep) this.#lines.shift();
    this.#onLine?.(line);
  }
}

/** Starts a program (never through a shell); a failed spawn shows up as `exited` with `spawnError`, never a throw. */
export function spawnChild(options: ChildOptions): Child {
  return new Child(options);
}
