// Segment URIs by media sequence number (issue 15 item 2): the rewriter numbers media segment lines as RFC 8216
// §4.3.3.2 says, and the book hands a viewer's URI back only after its variant came from another upstream.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rewritePlaylist } from '../../src/core/m3u8/rewrite.ts';
import type { SequenceUris } from '../../src/core/m3u8/rewrite-context.ts';
import { createSegmentUriBook, SEQUENCE_WINDOW } from '../../src/services/hls/segment-uris.ts';

function recording(): SequenceUris & { asked: number[]; kept: Map<number, string> } {
  const kept = new Map<number, string>();
  const asked: number[] = [];
  return { asked, kept, get: (msn) => (asked.push(msn), kept.get(msn)), set: (msn, uri) => void kept.set(msn, uri) };
}

test('§4.3.3.2 the rewriter numbers segment lines from EXT-X-MEDIA-SEQUENCE; keys, maps and variants are not numbered', () => {
  const seq = recording();
  seq.kept.set(41, 'KEPT');
  const text = '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:40\n#EXT-X-KEY:METHOD=AES-128,URI="k.key"\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:2,\na.ts\n#EXTINF:2,\nb.ts\n#EXTINF:2,\nc.ts\n';
  const out = rewritePlaylist(text, { baseUrl: 'http://o.test/x/live.m3u8', proxify: (kind, u) => `${kind}:${u}`, bySequence: seq }).toString();
  assert.deepEqual(seq.asked, [40, 41, 42]);
  assert.match(out, /^s:http:\/\/o\.test\/x\/a\.ts$/m);
  assert.match(out, /^KEPT$/m, 'a kept URI wins over a fresh one');
  assert.deepEqual([...seq.kept.keys()].sort(), [40, 41, 42], 'fresh URIs are kept for next time');
  assert.match(out, /URI="s:http:\/\/o\.test\/x\/k\.key"/);
  const noSequence = recording();
  rewritePlaylist('#EXTM3U\n#EXTINF:2,\na.ts\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n', { baseUrl: 'http://o.test/', proxify: (_kind, u) => u, bySequence: noSequence });
  assert.deepEqual(noSequence.asked, [0], 'numbered from 0 without the tag; a variant line is not a segment');
});

test('rfc8216bis §4.4.5.2 a delta update numbers its first segment after the skipped ones', () => {
  const seq = recording();
  const text = '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:100\n#EXT-X-SKIP:SKIPPED-SEGMENTS=12\n#EXTINF:2,\na.ts\n#EXTINF:2,\nb.ts\n';
  rewritePlaylist(text, { baseUrl: 'http://o.test/', proxify: (_kind, u) => u, bySequence: seq });
  assert.deepEqual(seq.asked, [112, 113]);
});

test('a kept URI comes back only after the variant came from another ring position, and then for good', () => {
  const book = createSegmentUriBook();
  const place = (ring: number) => ({ ring, ordinal: 1 });
  assert.equal(book.forAnswer('s', 'c', '/hls/s/p/', place(0), 1), undefined, 'a stream with one URL has nothing to survive');
  const onPrimary = book.forAnswer('s', 'c', '/hls/s/p/', place(0), 2);
  assert.ok(onPrimary);
  onPrimary.set(7, 'uri-7');
  assert.equal(onPrimary.get(7), undefined, 'same upstream: a renumbered segment is a new one');
  const onBackup = book.forAnswer('s', 'c', '/hls/s/p/', place(1), 2);
  assert.equal(onBackup?.get(7), 'uri-7');
  assert.equal(book.forAnswer('s', 'c', '/hls/s/p/', place(0), 2)?.get(7), 'uri-7', 'back on the primary it stays');
  assert.equal(book.forAnswer('s', 'other', '/hls/s/p/', place(1), 2)?.get(7), undefined, 'per viewer');
  assert.equal(book.forAnswer('s', 'c', '/hls/s/', place(1), 2)?.get(7), undefined, 'per request directory (URIs are relative to it)');
});

test('bounded: a viewer keeps its newest SEQUENCE_WINDOW numbers, and the book its most recent viewer-variant pairs', () => {
  const book = createSegmentUriBook(2);
  const seq = book.forAnswer('s', 'c', '/', { ring: 0, ordinal: 0 }, 2);
  assert.ok(seq);
  for (let msn = 0; msn < SEQUENCE_WINDOW + 10; msn++) seq.set(msn, `u${msn}`);
  const moved = book.forAnswer('s', 'c', '/', { ring: 1, ordinal: 0 }, 2);
  assert.equal(moved?.get(9), undefined, 'the oldest numbers are gone');
  assert.equal(moved?.get(SEQUENCE_WINDOW + 9), `u${SEQUENCE_WINDOW + 9}`);
  book.forAnswer('s', 'c2', '/', { ring: 0, ordinal: 0 }, 2);
  book.forAnswer('s', 'c3', '/', { ring: 0, ordinal: 0 }, 2);
  assert.equal(book.size(), 2);
  assert.equal(book.forAnswer('s', 'c', '/', { ring: 1, ordinal: 0 }, 2)?.get(SEQUENCE_WINDOW + 9), undefined, 'the least recent pair went first');
});
