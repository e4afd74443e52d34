// core/ts/scan.ts: packet boundaries, PATs and video keyframes found across arbitrary chunk cuts (ISO/IEC 13818-1 §2.4.3).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findSync, isVideoKeyframeStart, TS_PACKET_BYTES, TsScanner } from '../../src/core/ts/scan.ts';
import { packet } from '../helpers/ts-packets.ts';

/** A video PES start: 00 00 01 E0, length, flags, header length 0, then ES bytes. */
const videoPes = (es: number[]): number[] => [0, 0, 1, 0xe0, 0, 0, 0x80, 0, 0, ...es];
const PAT = packet({ pid: 0, pusi: true });
const PMT = packet({ pid: 0x1000, pusi: true });
const KEY = packet({ pid: 0x100, pusi: true, rai: true, payload: videoPes([0, 0, 0, 1, 0x09]) });
const IDR = packet({ pid: 0x100, pusi: true, payload: videoPes([0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x67]) });
const PFRAME = packet({ pid: 0x100, pusi: true, payload: videoPes([0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x41]) });
const AUDIO_RAI = packet({ pid: 0x101, pusi: true, rai: true, payload: [0, 0, 1, 0xc0, 0, 0, 0x80, 0, 0] });
const FILL = packet({ pid: 0x100 });

test('§2.4.3.5 a random_access_indicator on a video PES start is a keyframe; on audio it is not', () => {
  assert.equal(isVideoKeyframeStart(KEY, 0), true);
  assert.equal(isVideoKeyframeStart(AUDIO_RAI, 0), false);
});

test('H.264 SPS/IDR at the start of a video PES is a keyframe, a non-IDR slice is not', () => {
  assert.equal(isVideoKeyframeStart(IDR, 0), true);
  assert.equal(isVideoKeyframeStart(PFRAME, 0), false);
});

test('findSync needs sync bytes 188 apart, not a lone 0x47', () => {
  const b = Buffer.concat([Buffer.from([0x47, 1, 2, 3, 0x47]), PAT, PMT, FILL]);
  assert.equal(findSync(b, 0), 5);
});

test('the entry is the PAT before a keyframe, found across every chunk cut', () => {
  const stream = Buffer.concat([FILL, PAT, PMT, FILL, AUDIO_RAI, PAT, PMT, KEY, FILL, FILL, PAT, PMT, PFRAME, FILL]);
  const entryOffset = 5 * TS_PACKET_BYTES;
  const lastPatOffset = 10 * TS_PACKET_BYTES;
  for (const cut of [1, 7, 100, 187, 188, 189, 500, 1000, stream.length]) {
    const s = new TsScanner();
    const starts: number[] = [];
    const firsts: number[] = [];
    for (let off = 0, seq = 0; off < stream.length; off += cut, seq++) {
      starts.push(off);
      firsts.push(s.scan(stream.subarray(off, Math.min(stream.length, off + cut)), seq));
    }
    assert.ok(s.entry, `cut ${cut}: an entry`);
    assert.equal(starts[s.entry.seq]! + s.entry.off, entryOffset, `cut ${cut}: entry at the PAT before the keyframe`);
    // A PAT whose header the chunk cut is skipped; with cuts of 189 and more the newest one is always whole.
    if (cut > 188) assert.equal(starts[s.pat!.seq]! + s.pat!.off, lastPatOffset, `cut ${cut}: newest PAT`);
    // Every reported first boundary is a real packet start.
    for (const [i, f] of firsts.entries()) if (f >= 0) assert.equal((starts[i]! + f) % TS_PACKET_BYTES, 0, `cut ${cut} chunk ${i}`);
  }
});

test('bytes that are not MPEG-TS have no boundary and no entry', () => {
  const s = new TsScanner();
  assert.equal(s.scan(Buffer.alloc(4096, 0x11), 0), -1);
  assert.equal(s.entry, null);
  assert.equal(s.pat, null);
});

test('resync after a splice: the packet phase of the new stream is found again', () => {
  const s = new TsScanner();
  s.scan(Buffer.concat([PAT, FILL.subarray(0, 100)]), 0);
  s.resync();
  const next = Buffer.concat([Buffer.alloc(50, 0), PAT, PMT, KEY]);
  assert.equal(s.scan(next, 1), 50);
  assert.deepEqual(s.entry, { seq: 1, off: 50 });
});

test('random bytes stop the search after a few chunks, though they often end in a 0x47', () => {
  // A fixed xorshift sequence: the same bytes on every run. Half of these 64 KiB chunks end in a 0x47 that the
  // chunk cannot confirm; such a guess must not count as a boundary seen, or the scanner searches forever.
  let x = 0x2545f491;
  const chunk = (): Buffer => {
    const b = Buffer.allocUnsafe(64 * 1024);
    for (let i = 0; i < b.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b[i] = x & 0xff;
    }
    return b;
  };
  const s = new TsScanner();
  const firsts: number[] = [];
  for (let seq = 0; seq < 40; seq++) firsts.push(s.scan(chunk(), seq));
  assert.deepEqual(firsts.slice(20), new Array(20).fill(-1), 'no boundary claimed once the scanner gave up');
  assert.equal(s.pat, null);
});
