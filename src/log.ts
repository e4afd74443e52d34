// A tiny leveled logger writing one line per event, as text or JSON; created once in main and injected everywhere.

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFormat = 'text' | 'json';
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  error(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  isDebug(): boolean;
  /** Lines dropped because the destination failed (SPEC §15); absent: the logger cannot tell. */
  droppedWrites?(): number;
}

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  write?: (line: string) => void;
  now?: () => Date;
}

/** Where log lines go when no `write` is given: a stream that, once it fails, drops lines and counts them. */
export interface LogSink {
  write(line: string): void;
  readonly dropped: number;
}

/**
 * SPEC §15: a destination whose reader is gone (`| head`, a restarted journald) fails with EPIPE. Unhandled, that
 * error is an uncaught exception, which is logged, which fails again: the process spun at full CPU for good. Here the
 * first failure marks the sink broken and every later line is dropped and counted, without a word about it.
 */
export function createStreamSink(stream: NodeJS.WritableStream): LogSink {
  let broken = false;
  let dropped = 0;
  // Expected: EPIPE/EBADF/ECONNRESET once the reader is gone; nothing could report it anyway but the broken stream.
  stream.on('error', () => {
    broken = true;
  });
  const written = (err?: Error | null): void => {
    if (!err) return;
    broken = true;
    dropped++;
  };
  return {
    write(line) {
      if (broken) {
        dropped++;
        return;
      }
      stream.write(line, written);
    },
    get dropped() {
      return dropped;
    },
  };
}

export function createLogger(options: LoggerOptions): Logger {
  const max = RANK[options.level];
  const sink = options.write === undefined ? createStreamSink(process.stderr) : undefined;
  const write = options.write ?? ((line: string) => sink?.write(line));
  const now = options.now ?? (() => new Date());

  function emit(level: LogLevel, msg: string, fields?: LogFields): void {
    if (RANK[level] > max) return;
    const time = now().toISOString();
    if (options.format === 'json') {
      write(JSON.stringify({ time, level, msg, ...fields }) + '\n');
      return;
    }
    let line = `${time} ${level.toUpperCase().padEnd(5)} ${msg}`;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) {
        if (v === undefined) continue;
        const s = String(v);
        line += ` ${k}=${/[\s"=]/.test(s) ? JSON.stringify(s) : s}`;
      }
    }
    write(line + '\n');
  }

  return {
    error: (m, f) => emit('error', m, f),
    warn: (m, f) => emit('warn', m, f),
    info: (m, f) => emit('info', m, f),
    debug: (m, f) => emit('debug', m, f),
    isDebug: () => max >= RANK.debug,
    droppedWrites: () => sink?.dropped ?? 0,
  };
}

/** A logger that drops everything: for tests that do not look at logs. */
export const silentLogger: Logger = {
  error() {},
  warn() {},
  info() {},
  debug() {},
  isDebug: () => false,
};
