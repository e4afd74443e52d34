// Whether an external program is there and which version it is: run once at start-up, asynchronously (the
// reference ran `--version` on every request, blocking its event loop). Also: run a short program for its output.
import { type ChildExit, spawnChild } from './child.ts';

export type ProgramProbe = { found: true; path: string; version: string } | { found: false; path: string; reason: string };

export const DEFAULT_PROBE_TIMEOUT_MS = 5000;
/** Stdout kept from a short run: a version banner or a list, never a stream. */
const MAX_OUTPUT_CHARS = 65_536;

/** Runs `path args` to its end (killed after timeoutMs): its exit, its stdout (bounded) and its last stderr line. */
export async function runProgram(path: string, args: readonly string[], timeoutMs = DEFAULT_PROBE_TIMEOUT_MS): Promise<{ exit: ChildExit; stdout: string; lastLine: string }> {
  let stdout = '';
  const child = spawnChild({ command: path, args, stdout: 'pipe', keepLines: 1 });
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (text: string) => {
    if (stdout.length < MAX_OUTPUT_CHARS) stdout += text;
  });
  const timer = setTimeout(() => child.kill(), timeoutMs);
  timer.unref();
  const exit = await child.exited.finally(() => clearTimeout(timer));
  return { exit, stdout, lastLine: child.lastLines()[0] ?? '' };
}

export async function probeProgram(path: string, args: readonly string[] = ['-version'], timeoutMs = DEFAULT_PROBE_TIMEOUT_MS): Promise<ProgramProbe> {
  const { exit, stdout, lastLine } = await runProgram(path, args, timeoutMs);
  if (exit.spawnError) {
    const reason = exit.spawnError.code === 'ENOENT' ? 'not found' : `cannot run (${exit.spawnError.code ?? exit.spawnError.message})`;
    return { found: false, path, reason };
  }
  if (exit.signal !== null) return { found: false, path, reason: `did not answer ${args.join(' ')} within ${timeoutMs} ms` };
  const version = (firstLine(stdout) || firstLine(lastLine)).trim();
  if (exit.code !== 0 && version === '') return { found: false, path, reason: `exited with code ${exit.code}` };
  return { found: true, path, version };
}

function firstLine(text: string): string {
  const end = text.search(/[\r\n]/);
  return end < 0 ? text : text.slice(0, end);
}
