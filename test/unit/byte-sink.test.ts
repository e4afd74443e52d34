import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { base64urlChars, createByteSink, writeBase64url, writeBinary } from '../../src/core/byte-sink.ts';

test('RFC 4648 §5 writeBase64url gives the bytes of toString("base64url") for every length and offset', () => {
  const src = randomBytes(200);
  for (let n = 0; n <= 100; n++) {
    for (const from of [0, 1, 2, 7]) {
      const sink = createByteSink(1);
      writeBinary(sink, '>');
      writeBase64url(sink, src, from, n);
      const want = src.toString('base64url', from, from + n);
      assert.equal(sink.buf.toString('latin1', 0, sink.at), `>${want}`, `n=${n} from=${from}`);
      assert.equal(base64urlChars(n), want.length);
    }
  }
  // RFC 4648 §10 test vectors, base64url alphabet and no padding.
  const vectors: Array<[string, string]> = [['', ''], ['f', 'Zg'], ['fo', 'Zm8'], ['foo', 'Zm9v'], ['foob', 'Zm9vYg'], ['fooba', 'Zm9vYmE'], ['foobar', 'Zm9vYmFy']];
  for (const [plain, want] of vectors) {
    const sink = createByteSink(1);
    writeBase64url(sink, Buffer.from(plain), 0, plain.length);
    assert.equal(sink.buf.toString('latin1', 0, sink.at), want);
  }
  const sink = createByteSink(1);
  writeBase64url(sink, Buffer.from([0xfb, 0xff]), 0, 2);
  assert.equal(sink.buf.toString('latin1', 0, sink.at), '-_8', 'the URL-safe characters');
});

test('a byte sink grows and keeps what was written', () => {
  const sink = createByteSink(2);
  for (let i = 0; i < 1000; i++) writeBinary(sink, String(i % 10));
  assert.equal(sink.at, 1000);
  assert.equal(sink.buf.toString('latin1', 0, 12), '012345678901');
});
