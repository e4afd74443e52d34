// Runs ffmpeg/ffprobe as bounded child processes for e2e tests: every run has a deadline, and a child still
// alive when its test ends is killed in t.after.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { TestContext } from 'node:test';
import { trackChild } from './children.ts';

/** Longest any one ffmpeg/ffprobe run may take before it is killed and the test fails. */
export const TOOL_TIMEOUT_MS = 30_000;

export interface ToolRun {
  /** Exit code, or null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the deadline passed and the process was killed. */
  timedOut: boolean;
}

/** Runs `cmd args` to completion (or its deadline); rejects only when it cannot be started (ENOENT). */
export function runTool(t: TestContext, cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<ToolRun> {
  const timeoutMs = opts.timeoutMs ?? TOOL_TIMEOUT_MS;
  return new Promise<ToolRun>((resolve, reject) => {
    const child = trackChild(t, spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] }));
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    // A test that fails or times out while the child runs must not leave it behind.
    t.after(() => {
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), timedOut });
    });
  });
}

/** Runs a tool and fails the test with what it printed unless it exits 0 in time. */
export async function runOk(t: TestContext, cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<ToolRun> {
  const r = await runTool(t, cmd, args, opts);
  const what = `${cmd} ${args.join(' ')}`;
  assert.ok(!r.timedOut, `${what}: still running after ${(opts.timeoutMs ?? TOOL_TIMEOUT_MS) / 1000} s, killed. It printed:\n${r.stderr}`);
  assert.equal(r.code, 0, `${what}: exited ${r.code ?? r.signal}. It printed:\n${r.stderr}`);
  return r;
}

async function hasTool(t: TestContext, name: string): Promise<boolean> {
  try {
    return (await runTool(t, name, ['-version'])).code === 0;
  } catch (err) {
    // Not installed (ENOENT) is the expected reason; anything else is a real failure worth seeing.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Skips with the reason when ffmpeg/ffprobe are absent, except on CI where their absence is a failure. */
export async function requireFfmpeg(t: TestContext): Promise<boolean> {
  if ((await hasTool(t, 'ffmpeg')) && (await hasTool(t, 'ffprobe'))) return true;
  const reason = 'ffmpeg/ffprobe not installed (apt-get install ffmpeg)';
  assert.ok(!process.env['CI'], `${reason}: required on CI`);
  console.log(`# skipping: ${reason}`);
  t.skip(reason);
  return false;
}

/**
 * Plays `url` with ffmpeg, decoding every frame into the null muxer (`outputArgs` go before the output, e.g.
 * `-t 5` to bound a live stream); fails unless ffmpeg exits 0 in time and prints nothing at level warning:
 * the HLS demuxer reports a segment it could not open ("Failed to open segment") only as a warning, then
 * skips it and still exits 0.
 */
export async function playCleanly(t: TestContext, url: string, outputArgs: string[] = []): Promise<void> {
  const r = await runOk(t, 'ffmpeg', ['-nostdin', '-v', 'warning', '-xerror', '-i', url, ...outputArgs, '-f', 'null', '-']);
  assert.equal(r.stderr.trim(), '', `ffmpeg playing ${url} reported:\n${r.stderr}`);
}

/** The codec types ffprobe finds at `url`, e.g. ['video', 'audio']. */
export async function probeStreamTypes(t: TestContext, url: string): Promise<string[]> {
  const r = await runOk(t, 'ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', url]);
  return r.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
}
