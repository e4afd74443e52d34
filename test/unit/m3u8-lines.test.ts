import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { createLineDecoder, createLineSplitter, joinLines, type Line } from '../../src/core/m3u8/lines.ts';
import { UpstreamError } from '../../src/errors.ts';

async function split(chunks: Buffer[], maxLineBytes?: number): Promise<Line[]> {
  const lines: Line[] = [];
  await pipeline(Readable.from(chunks), createLineSplitter({ maxLineBytes }), async function* (source) {
    for await (const line of source) lines.push(line as Line);
  });
  return lines;
}

function byteByByte(buf: Buffer): Buffer[] {
  return [...buf].map((b) => Buffer.from([b]));
}

test('§4.1 lines end with LF or CRLF and each keeps its own ending', async () => {
  const lines = await split([Buffer.from('#EXTM3U\r\n#EXT-X-VERSION:3\nseg.ts\r\n')]);
  assert.deepEqual(
    lines.map((l) => [l.bytes.toString(), l.eol]),
    [['#EXTM3U', '\r\n'], ['#EXT-X-VERSION:3', '\n'], ['seg.ts', '\r\n']],
  );
});

test('§4.1 a last line without a newline is flushed with an empty ending', async () => {
  const lines = await split([Buffer.from('#EXTM3U\nseg.ts')]);
  assert.deepEqual(lines.at(-1)?.bytes.toString(), 'seg.ts');
  assert.equal(lines.at(-1)?.eol, '');
});

test('§4.1 blank lines are lines, and an empty body has none', async () => {
  assert.deepEqual((await split([Buffer.from('\n\r\n')])).map((l) => l.eol), ['\n', '\r\n']);
  assert.equal((await split([])).length, 0);
});

test('§4.1 a leading UTF-8 BOM is reported, not part of the first line', async () => {
  const input = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('#EXTM3U\nx.ts\n')]);
  const lines = await split(byteByByte(input));
  assert.equal(lines[0]?.bom, true);
  assert.equal(lines[0]?.bytes.toString(), '#EXTM3U');
  assert.equal(lines[1]?.bom, false);
  assert.deepEqual(joinLines(lines), input);
});

test('§4.1 chunk boundaries inside a line and inside a multi-byte character are safe', async () => {
  const input = Buffer.from('#EXTM3U\r\n#EXTINF:10,Café 日本 🎬\r\nseg.ts\n#EXT-X-ENDLIST', 'utf8');
  const lines = await split(byteByByte(input));
  assert.equal(lines[1]?.bytes.toString('utf8'), '#EXTINF:10,Café 日本 🎬');
  assert.deepEqual(joinLines(lines), input);
});

test('§4.1 bytes that are not UTF-8 go through unchanged', async () => {
  const input = Buffer.from([0x23, 0x45, 0x58, 0x54, 0x49, 0x4e, 0x46, 0x3a, 0x31, 0x2c, 0xe9, 0xff, 0x0a]);
  assert.deepEqual(joinLines(await split(byteByByte(input))), input);
});

test('a line over the 64 KiB cap fails with UpstreamError (502), with or without a newline', async () => {
  const long = Buffer.alloc(65_537, 0x61);
  for (const input of [long, Buffer.concat([long, Buffer.from('\n')])]) {
    await assert.rejects(split([input]), (err: unknown) => {
      assert.ok(err instanceof UpstreamError);
      assert.equal(err.status, 502);
      assert.equal(err.code, 'UPSTREAM_FAILED');
      assert.equal(err.message, 'Playlist line longer than 65536 bytes');
      return true;
    });
  }
});

test('a line of exactly 64 KiB with CRLF is accepted', async () => {
  const lines = await split([Buffer.alloc(65_536, 0x61), Buffer.from('\r\n')]);
  assert.equal(lines[0]?.bytes.length, 65_536);
  assert.equal(lines[0]?.eol, '\r\n');
});

test('the cap is enforced while a line is still arriving, before it is buffered whole', () => {
  const decoder = createLineDecoder(() => undefined, 10);
  assert.throws(() => {
    for (let i = 0; i < 100; i++) decoder.push(Buffer.from('aaaa'));
  }, UpstreamError);
});
