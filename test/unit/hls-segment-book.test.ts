import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StreamRecord } from '../../src/core/registry.ts';
import { createSegmentBook, RING_MEDIA } from '../../src/services/hls/segment-book.ts';

const stream = (id: string): StreamRecord => ({ id }) as StreamRecord;
const body = (sequence: number, names: string[], ended = false): Buffer =>
  Buffer.from(`#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:${sequence}\n${names.map((n) => `#EXTINF:4,\n${n}\n`).join('')}${ended ? '#EXT-X-ENDLIST\n' : ''}`);

test('a segment is located by stream: its variant place, media sequence number and position', () => {
  const book = createSegmentBook();
  const s = stream('s');
  book.record(s, { ring: 0, ordinal: 1 }, 'http://o/high/index.m3u8', body(20, ['a.ts', 'b.ts']));
  book.record(s, { ring: 0, ordinal: RING_MEDIA }, 'http://o/other.m3u8', body(0, ['x.ts']));
  assert.deepEqual(book.locate(s, 'http://o/high/b.ts'), { place: { ring: 0, ordinal: 1 }, msn: 21, position: 1 });
  assert.deepEqual(book.locate(s, 'http://o/x.ts'), { place: { ring: 0, ordinal: RING_MEDIA }, msn: 0, position: 0 });
  assert.equal(book.locate(s, 'http://o/high/c.ts'), undefined);
  assert.equal(book.locate(stream('s'), 'http://o/high/b.ts'), undefined, 'another stream record (re-created) knows nothing');
});

test('a reload replaces its page; the page of a place is its last fetch', () => {
  const book = createSegmentBook();
  const s = stream('s');
  const place = { ring: 1, ordinal: 0 };
  book.record(s, place, 'http://b/v.m3u8', body(5, ['5.ts', '6.ts']));
  book.record(s, place, 'http://b/v.m3u8', body(6, ['6.ts', '7.ts'], true));
  const page = book.page(s, place);
  assert.equal(page?.index.mediaSequence, 6);
  assert.equal(page?.index.ended, true);
  assert.equal(book.locate(s, 'http://b/5.ts'), undefined);
});

test('the book is bounded by bytes, dropping the least recently recorded playlist, and skips huge ones', () => {
  const book = createSegmentBook({ maxBytes: 4000 });
  const s = stream('s');
  const names = Array.from({ length: 10 }, (_, i) => `seg-${i}.ts`);
  for (let ring = 0; ring < 20; ring++) book.record(s, { ring, ordinal: 0 }, `http://o/${ring}/v.m3u8`, body(0, names));
  assert.ok(book.bytes() <= 4000, `holds ${book.bytes()} bytes`);
  assert.equal(book.page(s, { ring: 0, ordinal: 0 }), undefined, 'the oldest went first');
  assert.ok(book.page(s, { ring: 19, ordinal: 0 }), 'the newest is there');
  book.record(s, { ring: 30, ordinal: 0 }, 'http://o/huge.m3u8', Buffer.alloc(1001, 0x20));
  assert.equal(book.page(s, { ring: 30, ordinal: 0 }), undefined);
});
