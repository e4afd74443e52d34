// B12: the served live.m3u8 keeps the previous programme's tail across a transition, with a discontinuity before
// each programme's first segment and media/discontinuity sequences that only move forward.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DirWatch, deleteUnlisted } from '../../src/services/broadcast/dir-watch.ts';
import { beginProgramme, composePlaylist, emptyContinuity, parsePlaylist, tailNames } from '../../src/services/broadcast/continuity.ts';

/** A playlist as FFmpeg 5.1 writes it (discont_start puts the tag before INDEPENDENT-SEGMENTS). */
function ffmpegPlaylist(first: number, last: number, discontinuity = false, seconds = 6): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:6', `#EXT-X-TARGETDURATION:${seconds}`, `#EXT-X-MEDIA-SEQUENCE:${first}`];
  if (discontinuity) lines.push('#EXT-X-DISCONTINUITY');
  lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
  for (let n = first; n <= last; n++) lines.push(`#EXTINF:${seconds}.000000,`, `#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:${String(n % 60).padStart(2, '0')}.000+0000`, `live${String(n).padStart(6, '0')}.ts`);
  return `${lines.join('\n')}\n`;
}

const uris = (text: string) => text.split('\n').filter((l) => /^live\d+\.ts$/.test(l));
const tag = (text: string, name: string) => text.split('\n').find((l) => l.startsWith(`#${name}:`))?.split(':')[1];
/** The URI right after each #EXT-X-DISCONTINUITY. */
function discontinuities(text: string): string[] {
  const lines = text.split('\n');
  return lines.flatMap((l, i) => (l === '#EXT-X-DISCONTINUITY' ? [lines.slice(i).find((x) => /^live\d+\.ts$/.test(x)) ?? ''] : []));
}

test('parse: blocks with their tags, anything else than live<digits>.ts is not composed', () => {
  const p = parsePlaylist(ffmpegPlaylist(7, 8, true));
  assert.deepEqual(p?.blocks.map((b) => b.n), [7, 8]);
  assert.equal(p?.blocks[0]?.lines[0], '#EXT-X-DISCONTINUITY');
  assert.equal(p?.targetDuration, 6);
  assert.equal(parsePlaylist('#EXTM3U\n#EXTINF:1,\nhttp://elsewhere/x.ts\n'), null);
});

test('a fresh network is served FFmpeg\'s text unchanged', () => {
  const text = ffmpegPlaylist(0, 4);
  assert.equal(composePlaylist(text, emptyContinuity(5)), text);
});

test('transition: the old tail stays while the window has room; sequences only move forward', () => {
  const c = emptyContinuity(5);
  // Programme A: 0..9 served, window of 5 → 5..9 on air when it ends.
  beginProgramme(c, ffmpegPlaylist(5, 9), 10, true, 5);
  assert.deepEqual([...tailNames(c)], ['live000005.ts', 'live000006.ts', 'live000007.ts', 'live000008.ts', 'live000009.ts']);
  // B's FFmpeg has written nothing yet: its directory still holds A's playlist, which is served as before.
  let served = composePlaylist(ffmpegPlaylist(5, 9), c);
  assert.deepEqual(uris(served), ['live000005.ts', 'live000006.ts', 'live000007.ts', 'live000008.ts', 'live000009.ts']);
  // B's first playlist (FFmpeg's discont_start on its first segment).
  served = composePlaylist(ffmpegPlaylist(10, 10, true, 4), c);
  assert.deepEqual(uris(served), ['live000006.ts', 'live000007.ts', 'live000008.ts', 'live000009.ts', 'live000010.ts']);
  assert.equal(tag(served, 'EXT-X-MEDIA-SEQUENCE'), '6');
  assert.equal(tag(served, 'EXT-X-DISCONTINUITY-SEQUENCE'), '0');
  assert.equal(tag(served, 'EXT-X-TARGETDURATION'), '6', 'the longest listed segment counts');
  assert.deepEqual(discontinuities(served), ['live000010.ts']);
  served = composePlaylist(ffmpegPlaylist(10, 13, true, 4), c);
  assert.deepEqual(uris(served), ['live000009.ts', 'live000010.ts', 'live000011.ts', 'live000012.ts', 'live000013.ts']);
  served = composePlaylist(ffmpegPlaylist(10, 14, true, 4), c);
  assert.deepEqual(uris(served)[0], 'live000010.ts');
  assert.equal(tag(served, 'EXT-X-TARGETDURATION'), '4');
  assert.equal(tag(served, 'EXT-X-DISCONTINUITY-SEQUENCE'), '0', 'the tag is still listed');
  // FFmpeg's window moves on: B's first segment, and its tag, slide out.
  served = composePlaylist(ffmpegPlaylist(11, 15, false, 4), c);
  assert.equal(tag(served, 'EXT-X-MEDIA-SEQUENCE'), '11');
  assert.equal(tag(served, 'EXT-X-DISCONTINUITY-SEQUENCE'), '1');
  assert.deepEqual(discontinuities(served), []);
  assert.equal(tailNames(c).size, 0, 'the tail is forgotten once out of the window');
  // A second transition, C after a short B: the served window (B's tail) carries over again.
  beginProgramme(c, ffmpegPlaylist(11, 15, false, 4), 16, true, 5);
  served = composePlaylist(ffmpegPlaylist(16, 17, true, 4), c);
  assert.deepEqual(uris(served), ['live000013.ts', 'live000014.ts', 'live000015.ts', 'live000016.ts', 'live000017.ts']);
  assert.equal(tag(served, 'EXT-X-DISCONTINUITY-SEQUENCE'), '1');
  assert.deepEqual(discontinuities(served), ['live000016.ts']);
});

test('a discontinuity FFmpeg did not write (its window already moved) is added from the record', () => {
  const c = emptyContinuity(3);
  beginProgramme(c, ffmpegPlaylist(0, 2), 3, true, 3);
  const served = composePlaylist(ffmpegPlaylist(3, 4, false), c);
  assert.deepEqual(uris(served), ['live000002.ts', 'live000003.ts', 'live000004.ts']);
  assert.deepEqual(discontinuities(served), ['live000003.ts']);
});

test('the previous programme\'s segments the served playlist still lists are not pruned from disk', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bc-tail-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const n of [7, 8, 9]) {
    writeFileSync(join(dir, `live00000${n}.ts`), 'old');
    utimesSync(join(dir, `live00000${n}.ts`), 1, 1);
  }
  writeFileSync(join(dir, 'live.m3u8'), '#EXTM3U\n#EXTINF:1,\nlive000010.ts\n');
  writeFileSync(join(dir, 'live000010.ts'), 'new');
  const retained = new Set(['live000009.ts']);
  const watch = new DirWatch({ dir, startNumber: 10, windowMs: 5_000, keepAll: false, stallMs: 60_000, retained: () => retained, onStall: () => undefined, onError: (e) => assert.fail(String(e)) });
  await watch.tick();
  assert.ok(!existsSync(join(dir, 'live000007.ts')) && existsSync(join(dir, 'live000009.ts')));
  writeFileSync(join(dir, 'live000008.ts'), 'old');
  await deleteUnlisted(dir, retained);
  assert.ok(!existsSync(join(dir, 'live000008.ts')) && existsSync(join(dir, 'live000009.ts')) && existsSync(join(dir, 'live000010.ts')));
});
