// The HLS transcode playlist rewrite and file names (SPEC §13, defect D2): URIs become t/<name>, nothing else passes.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { hlsFileType, rewriteHlsOutput, SAFE_FILE } from '../../src/services/transcode/hls-dir.ts';

test('media lines and URI attributes become t/<name>; the player query goes along; line endings become LF', () => {
  const text = '#EXTM3U\r\n#EXT-X-MAP:URI="init.mp4"\r\n#EXTINF:2.000000,\r\nindex0.m4s\r\n\r\n#EXT-X-ENDLIST';
  assert.equal(rewriteHlsOutput(text, '?client_id=a'), '#EXTM3U\n#EXT-X-MAP:URI="t/init.mp4?client_id=a"\n#EXTINF:2.000000,\nt/index0.m4s?client_id=a\n\n#EXT-X-ENDLIST');
});

test('a URI that is not a plain name of the directory is dropped, never passed on', () => {
  const out = rewriteHlsOutput('#EXTINF:2,\n/etc/passwd\n#EXTINF:2,\n../x.ts\n#EXTINF:2,\nhttp://x/y.ts\n#EXT-X-KEY:METHOD=AES-128,URI="/k"\n');
  assert.ok(!/passwd|\.\.|http|"\/k"/.test(out), out);
});

test('safe names and their types', () => {
  for (const ok of ['index0.ts', 'init.mp4', 'seg_001.m4s', 'a-b.vtt']) assert.ok(SAFE_FILE.test(ok), ok);
  for (const bad of ['', '.', '..', '.hidden', 'a/b', 'a\\b', '%2e%2e', 'x'.repeat(129)]) assert.ok(!SAFE_FILE.test(bad), bad);
  assert.deepEqual(['a.ts', 'a.m4s', 'init.mp4', 's.vtt', 'x.bin'].map(hlsFileType), ['video/mp2t', 'video/iso.segment', 'video/mp4', 'text/vtt', 'application/octet-stream']);
});
