import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { decodeHead, parseContentEncoding } from '../../src/core/upstream/decode.ts';

const TEXT = Buffer.from('#EXTM3U\n' + Array.from({ length: 5000 }, (_, i) => `#EXTINF:4,\nhttp://provider.example/seg${i}.ts\n`).join(''));

test('RFC 9110 §8.4.1 decodeHead: the start of a gzip, deflate (zlib and raw) or br body, from a truncated copy', () => {
  for (const [name, encoded] of [['gzip', gzipSync(TEXT)], ['deflate', deflateSync(TEXT)], ['deflate', deflateRawSync(TEXT)], ['br', brotliCompressSync(TEXT)]] as const) {
    const head = decodeHead(encoded.subarray(0, 600), [name]);
    assert.ok(head !== undefined && head.length > 64, `${name}: decoded something`);
    assert.deepEqual(head.subarray(0, 64), TEXT.subarray(0, 64), name);
  }
  const twice = decodeHead(gzipSync(gzipSync(TEXT)).subarray(0, 3000), parseContentEncoding('gzip, gzip'));
  assert.deepEqual(twice?.subarray(0, 7).toString(), '#EXTM3U', 'codings undone from the last applied');
});

test('decodeHead: corrupt bytes or an unknown coding give undefined; a bomb stays bounded', () => {
  assert.equal(decodeHead(Buffer.from('not gzip at all'), ['gzip']), undefined);
  assert.equal(decodeHead(Buffer.from('abc'), ['compress']), undefined);
  const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x23));
  const out = decodeHead(bomb, ['gzip']);
  assert.ok(out === undefined || out.length <= 8 * 1024 * 1024, 'never more than the cap');
});
