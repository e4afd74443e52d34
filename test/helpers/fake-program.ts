// Fake FFmpeg / streamlink / yt-dlp for transcode tests: a small sh script written to a temp dir, that answers
// -version, logs each start (its pid and argv, one argument a line) and then runs the behaviour the test gives.
// The temp dir is removed in t.after.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { packet } from './ts-packets.ts';

export interface FakeProgram {
  /** The script: pass it as FFMPEG_PATH (etc.). */
  path: string;
  dir: string;
  /** One entry per start: the argv it got. */
  starts(): string[][];
  /** Pids of the starts, in order. */
  pids(): number[];
}

/** 200 TS packets beginning with a PAT (pid 0, PUSI) then video-pid packets: what the fake writes in a loop. */
export function tsFixture(): Buffer {
  const out: Buffer[] = [packet({ pid: 0, pusi: true, payload: [0, 0] })];
  for (let i = 0; i < 199; i++) out.push(packet({ pid: 0x100, pusi: i % 50 === 0, payload: [i & 0xff] }));
  return Buffer.concat(out);
}

/**
 * `body` is sh run after the logging; `$DIR/fixture.ts` is tsFixture(). Useful bodies: FAKE_STREAM (loop the
 * fixture on stdout), `echo 'Server returned 403 Forbidden' >&2; exit 1`, `sleep 30`.
 */
export function fakeProgram(t: TestContext, body: string): FakeProgram {
  const dir = mkdtempSync(join(tmpdir(), 'm3u-fake-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'fixture.ts'), tsFixture());
  const path = join(dir, 'fake');
  writeFileSync(
    path,
    [
      '#!/bin/sh',
      `DIR='${dir}'`,
      'case "$1" in -version|--version) echo "fake version 1.0"; exit 0;; esac',
      'case "$*" in *-hwaccels*) echo "Hardware acceleration methods:"; echo "vdpau"; exit 0;; esac',
      'printf "%s\\n" "$@" > "$DIR/start-$$.argv"',
      body,
      '',
    ].join('\n'),
  );
  chmodSync(path, 0o755);
  // Oldest first: by modification time, then pid.
  const files = (): { pid: number; file: string }[] =>
    readdirSync(dir)
      .filter((f) => /^start-\d+\.argv$/.test(f))
      .map((f) => ({ pid: Number(/\d+/.exec(f)![0]), file: join(dir, f), at: statSync(join(dir, f)).mtimeMs }))
      .sort((a, b) => a.at - b.at || a.pid - b.pid);
  return {
    path,
    dir,
    starts: () => files().map((f) => readFileSync(f.file, 'utf8').replace(/\n$/, '').split('\n')),
    pids: () => files().map((f) => f.pid),
  };
}

/** Loops the TS fixture on stdout until killed. */
export const FAKE_STREAM = 'while :; do cat "$DIR/fixture.ts" || exit 0; sleep 0.05; done';

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** A private HLS_TEMP_DIR: start-up removes leftover transcode directories, so tests never share /tmp for them. */
export function privateHlsDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'm3u-hlsbase-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
