// The rewriter's output holds a copy and lets it go on over what follows in its source while that matches
// (src/core/m3u8/output.ts). Bytes a source still writes must never be taken that way: once in CI, a memo that was
// still recording wrote its next URI where an EXTINF line had matched, and a reload came out with two URIs on a line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOutput } from '../../src/core/m3u8/output.ts';
import { Generation } from '../../src/services/hls/memo-generation.ts';
import type { ByteSink } from '../../src/core/byte-sink.ts';

const EXTINF = '\n#EXTINF:6.000,\n';

test('a held copy goes on over matching bytes of its source only up to what the source called final', () => {
  const src = Buffer.from(`s/AAAA.x${EXTINF}s/BBBB.x`);
  const out = createOutput();
  out.copy(src, 0, 8, 8);
  out.range(EXTINF, 0, EXTINF.length);
  // The source goes on writing past its final byte before the output is taken.
  src.write('s/CCCCCCCCCCCCCC', 8, 'latin1');
  assert.equal(out.take()?.toString('latin1'), `s/AAAA.x${EXTINF}`);
});

test('without a final byte given, the whole source is final, and a matching run is still one answer', () => {
  const src = Buffer.from(`s/AAAA.x${EXTINF}s/BBBB.x`);
  const out = createOutput();
  out.copy(src, 0, 8);
  out.range(EXTINF, 0, EXTINF.length);
  out.copy(src, 8 + EXTINF.length, src.length);
  out.range('\n', 0, 1);
  assert.equal(out.take()?.toString('latin1'), `s/AAAA.x${EXTINF}s/BBBB.x\n`);
});

test('a generation still recording gives a sink only bytes that its next entries do not overwrite', () => {
  const g = new Generation();
  g.add('a.ts', 's/AAAA.x');
  const seen: { src: Buffer; end: number; final: number; bytes: Buffer }[] = [];
  const sink: ByteSink = {
    buf: Buffer.alloc(0),
    at: 0,
    room: () => undefined,
    copy: (src, _start, end, final = src.length) => void seen.push({ src, end, final, bytes: Buffer.from(src.subarray(end, final)) }),
  };
  g.copyUri(0, sink);
  for (let i = 0; i < 20; i++) g.add(`b${i}.ts`, `s/${'B'.repeat(i + 4)}.x`);
  const [copy] = seen;
  assert.ok(copy !== undefined);
  assert.deepEqual(copy.src.subarray(copy.end, copy.final), copy.bytes, 'bytes called final did not change');
});
