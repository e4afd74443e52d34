import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findCounterpart, indexMediaPlaylist, readTargetDurationS } from '../../src/services/hls/media-playlist.ts';

const LIVE = '#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:41\n#EXT-X-KEY:METHOD=AES-128,URI="k.key"\n#EXTINF:6,\na.ts\n#EXT-X-PART:DURATION=1,URI="p.ts"\n#EXTINF:6,\r\nsub/b.ts?x=1\r\n#EXTINF:6,\nhttps://cdn.example/c.ts\n';

test('RFC 8216 §4.3.3.2 segments are numbered from EXT-X-MEDIA-SEQUENCE; keys and parts are not segments', () => {
  const index = indexMediaPlaylist(LIVE, 'http://o/live/index.m3u8?token=1');
  assert.equal(index.mediaSequence, 41);
  assert.equal(index.targetDurationS, 6);
  assert.equal(index.ended, false);
  assert.deepEqual(index.segments, ['http://o/live/a.ts', 'http://o/live/sub/b.ts?x=1', 'https://cdn.example/c.ts']);
});

test('RFC 8216 §4.3.3.4 §4.3.4.2 ENDLIST ends a VOD; a master playlist has no segments; no sequence means 0', () => {
  const vod = indexMediaPlaylist('#EXTM3U\n#EXTINF:4,\n/x/0.ts\n#EXT-X-ENDLIST\n', 'http://o/a/v.m3u8');
  assert.deepEqual(vod, { mediaSequence: 0, targetDurationS: undefined, ended: true, segments: ['http://o/x/0.ts'] });
  const master = indexMediaPlaylist('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nlow.m3u8\n', 'http://o/m.m3u8');
  assert.deepEqual(master.segments, []);
});

test('the counterpart: same media sequence number first, else the same position, else none', () => {
  const index = { mediaSequence: 8, targetDurationS: 4, ended: false, segments: ['b8', 'b9', 'b10', 'b11'] };
  assert.equal(findCounterpart(index, { msn: 10, position: 0 }), 'b10');
  assert.equal(findCounterpart(index, { msn: 3, position: 1 }), 'b9', 'numbered below the window: by position');
  assert.equal(findCounterpart(index, { msn: 99, position: 2 }), 'b10', 'numbered above: by position');
  assert.equal(findCounterpart(index, { msn: 99, position: 9 }), undefined);
});

test('RFC 8216 §4.3.3.1 the target duration is read from the head of the body', () => {
  assert.equal(readTargetDurationS(Buffer.from(LIVE)), 6);
  assert.equal(readTargetDurationS(Buffer.from('#EXTM3U\r\n#EXT-X-TARGETDURATION:10\r\n')), 10);
  assert.equal(readTargetDurationS(Buffer.from('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nlow.m3u8\n')), undefined);
});

test('rfc8216bis §4.4.5.2 a delta update: the first segment listed is numbered after the skipped ones', () => {
  const delta = indexMediaPlaylist('#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:100\n#EXT-X-SKIP:SKIPPED-SEGMENTS=12\n#EXTINF:2,\na.ts\n', 'http://o/l.m3u8');
  assert.equal(delta.mediaSequence, 112);
  assert.deepEqual(delta.segments, ['http://o/a.ts']);
});

test('lone-CR line endings, as the rewriter reads them: segments and the target duration are found', () => {
  const text = '#EXTM3U\r#EXT-X-TARGETDURATION:6\r#EXT-X-MEDIA-SEQUENCE:3\r#EXTINF:6,\ra.ts\r#EXTINF:6,\rb.ts\r';
  const index = indexMediaPlaylist(text, 'http://o.example/live/index.m3u8');
  assert.deepEqual(index.segments, ['http://o.example/live/a.ts', 'http://o.example/live/b.ts']);
  assert.equal(index.mediaSequence, 3);
  assert.equal(readTargetDurationS(Buffer.from(text)), 6);
});
