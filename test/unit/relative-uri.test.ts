// Relative playback URIs (SPEC §2 PUBLIC_URL, RFC 3986 §5.2): each one resolves, from the URL of the answer that
// carries it, to the proxy route it names, with or without a path prefix in front that the proxy never sees.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { playbackDirs, relativeDirRef } from '../../src/core/relative-uri.ts';

test('a master playlist hands out p/ and s/; a variant ../s/ and bare tokens', () => {
  assert.deepEqual(playbackDirs(undefined, 'abc', '/hls/abc/playlist.m3u8'), { p: 'p/', s: 's/' });
  assert.deepEqual(playbackDirs(undefined, 'abc', '/hls/abc/p/TOKEN.m3u8'), { p: '', s: '../s/' });
  // A trailing slash (the router accepts one) moves the document one directory down.
  assert.deepEqual(playbackDirs(undefined, 'abc', '/hls/abc/playlist.m3u8/'), { p: '../p/', s: '../s/' });
});

test('PUBLIC_URL makes them absolute on it, whatever the request path', () => {
  assert.deepEqual(playbackDirs('https://tv.example.com/m3u-proxy', 'abc', '/hls/abc/p/T.m3u8'), {
    p: 'https://tv.example.com/m3u-proxy/hls/abc/p/',
    s: 'https://tv.example.com/m3u-proxy/hls/abc/s/',
  });
});

test('/stream/{id} redirects to ../hls/{id}/', () => {
  assert.equal(relativeDirRef('/stream/abc', '/hls/abc/'), '../hls/abc/');
  assert.equal(relativeDirRef('/stream/abc/', '/hls/abc/'), '../../hls/abc/');
});

test('every reference resolves to its target below any prefix (RFC 3986 §5.2 via WHATWG URL)', () => {
  const cases: [string, string][] = [
    ['/hls/abc/playlist.m3u8', '/hls/abc/s/'],
    ['/hls/abc/playlist.m3u8', '/hls/abc/p/'],
    ['/hls/abc/p/T.m3u8', '/hls/abc/s/'],
    ['/hls/abc/p/T.m3u8', '/hls/abc/p/'],
    ['/stream/abc', '/hls/abc/'],
    ['/', '/hls/x/'],
    ['/a/b/c/d', '/x/'],
  ];
  for (const prefix of ['', '/m3u-proxy', '/a/b']) {
    for (const [from, to] of cases) {
      const ref = relativeDirRef(from, to) + 'file.ts';
      assert.equal(new URL(ref, `http://h${prefix}${from}?q=1`).pathname, `${prefix}${to}file.ts`, `${prefix}${from} → ${to}: ${ref}`);
    }
  }
});

test('a first segment with a colon is kept a path, not read as a scheme', () => {
  const ref = relativeDirRef('/hls/a/playlist.m3u8', '/hls/a/x:y/');
  assert.equal(ref, './x:y/');
  assert.equal(new URL(ref + 'f', 'http://h/hls/a/playlist.m3u8').pathname, '/hls/a/x:y/f');
});

test('a stream id is percent-encoded in the path', () => {
  assert.deepEqual(playbackDirs('http://h', 'a b/c', '/x'), { p: 'http://h/hls/a%20b%2Fc/p/', s: 'http://h/hls/a%20b%2Fc/s/' });
});
