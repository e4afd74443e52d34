// Runs the real server as a child process (source through tsx, or the single executable) and reads its port from the log.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestContext } from 'node:test';
import { trackChild } from './children.ts';

export interface SpawnedProxy {
  child: ChildProcess;
  port: number;
  base: string;
  /** Everything the process wrote to stderr so far (its log). */
  log(): string;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Env with nothing inherited that would change the server's configuration. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'SYSTEMROOT']) if (process.env[key] !== undefined) env[key] = process.env[key];
  // STATE_FILE empty: memory only, so a spawned proxy never writes ./data in the repo; state tests pass their own file.
  return { ...env, LOG_LEVEL: 'info', LOG_FORMAT: 'text', STATE_FILE: '', ...extra };
}

/**
 * Starts `command args... --host 127.0.0.1 --port 0` and waits for the 'm3u-proxy listening' line.
 * The child is killed in t.after if the test has not ended it.
 */
export async function spawnProxy(
  t: TestContext,
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<SpawnedProxy> {
  const child = trackChild(
    t,
    spawn(command, [...args, '--host', '127.0.0.1', '--port', '0'], {
      cwd: options.cwd,
      env: options.env ?? cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  let stderr = '';
  child.stdout?.resume();
  child.stderr?.setEncoding('utf8');
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (chunk: string) => {
      stderr += chunk;
      const m = /m3u-proxy listening.*\bport[=":]+(\d+)/.exec(stderr);
      if (m) {
        child.stderr?.off('data', onData);
        child.stderr?.on('data', (more: string) => (stderr += more));
        resolve(Number(m[1]));
      }
    };
    child.stderr?.on('data', onData);
    child.once('error', reject);
    void exited.then(({ code, signal }) => reject(new Error(`server exited before listening (code ${code}, signal ${signal}):\n${stderr}`)));
  });
  return { child, port, base: `http://127.0.0.1:${port}`, log: () => stderr, exited };
}

/** Resolves once a new TCP connection to the port is refused: the listener is closed. */
export async function waitUntilRefused(port: number): Promise<void> {
  for (;;) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
    });
    if (refused) return;
    await sleep(20);
  }
}
