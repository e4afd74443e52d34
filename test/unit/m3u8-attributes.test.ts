import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  attributesStart,
  findAttribute,
  findUriAttribute,
  readMethod,
  replaceUriAttribute,
  scanAttributes,
} from '../../src/core/m3u8/attributes.ts';

const KEY = '#EXT-X-KEY:METHOD=AES-128,URI="https://k.example/key?a=1,b=2",IV=0x0123456789ABCDEF0123456789ABCDEF';

test('§4.2 attribute list: names, quoted and unquoted values, commas inside quotes', () => {
  const seen: string[] = [];
  scanAttributes(KEY, attributesStart(KEY), (span) => {
    seen.push(`${span.name}=${KEY.slice(span.start, span.end)}${span.quoted ? ' (quoted)' : ''}`);
  });
  assert.deepEqual(seen, [
    'METHOD=AES-128',
    'URI=https://k.example/key?a=1,b=2 (quoted)',
    'IV=0x0123456789ABCDEF0123456789ABCDEF',
  ]);
});

test('§4.2 URI="..." is found and replaced, every other byte kept', () => {
  const span = findUriAttribute(KEY, attributesStart(KEY));
  assert.equal(span && KEY.slice(span.start, span.end), 'https://k.example/key?a=1,b=2');
  assert.equal(
    replaceUriAttribute(KEY, attributesStart(KEY), '/hls/x/s/T.key'),
    '#EXT-X-KEY:METHOD=AES-128,URI="/hls/x/s/T.key",IV=0x0123456789ABCDEF0123456789ABCDEF',
  );
});

test('§4.2 a quoted value that merely contains URI= is not the URI attribute', () => {
  const line = '#EXT-X-MEDIA:TYPE=AUDIO,NAME="x,URI=no",GROUP-ID="a"';
  assert.equal(findUriAttribute(line, attributesStart(line)), undefined);
  const line2 = '#EXT-X-SESSION-DATA:DATA-ID="com.x",VALUE="a,URI=nope",URI="data.json"';
  const span = findUriAttribute(line2, attributesStart(line2));
  assert.equal(span && line2.slice(span.start, span.end), 'data.json');
});

test('§4.2 no URI attribute, an unquoted one, or an unterminated quote: nothing to replace', () => {
  for (const line of ['#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a"', '#EXT-X-MAP:URI=init.mp4', '#EXT-X-MAP:URI="init.mp4']) {
    assert.equal(replaceUriAttribute(line, attributesStart(line), 'X'), undefined, line);
  }
});

test('§4.2 spaces after commas and lower-case names from sloppy origins are tolerated', () => {
  const line = '#EXT-X-KEY:METHOD=AES-128, uri="k.bin"';
  const span = findAttribute(line, attributesStart(line), 'URI');
  assert.equal(span && line.slice(span.start, span.end), 'k.bin');
});

test('§4.3.2.4 METHOD is read, uppercased; absent gives undefined', () => {
  assert.equal(readMethod(KEY, attributesStart(KEY)), 'AES-128');
  const none = '#EXT-X-KEY:METHOD=NONE';
  assert.equal(readMethod(none, attributesStart(none)), 'NONE');
  const noMethod = '#EXT-X-KEY:URI="k"';
  assert.equal(readMethod(noMethod, attributesStart(noMethod)), undefined);
});

test('a tag without a colon has no attribute list', () => {
  assert.equal(attributesStart('#EXT-X-ENDLIST'), -1);
});
