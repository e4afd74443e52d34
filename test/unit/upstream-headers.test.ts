// Header passes (SPEC §5.1) and the ring walk order/back-off: pure functions with plain objects.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  buildUpstreamHeaders,
  contentTypeFor,
  dropHopByHop,
  isConditional,
  mirrorResponseHeaders,
  parseContentLength,
  parseContentRange,
  pickPlayerHeaders,
  resumeRange,
} from '../../src/core/upstream/headers.ts';
import { backoffMs, ringOrder, roundsFor } from '../../src/services/upstream/failover.ts';
import { bodyPlanOf } from '../../src/services/continuous/proxy-stream.ts';
import type { IncomingMessage } from 'node:http';

test('buildUpstreamHeaders: UA, Accept */*, Accept-Encoding identity, custom headers, forwarded last; hop-by-hop and proxy-owned dropped', () => {
  const h = buildUpstreamHeaders({
    userAgent: 'UA/1',
    custom: { Referer: 'r', Cookie: 'c=1', Connection: 'close', 'Transfer-Encoding': 'chunked', Host: 'evil', 'Accept-Encoding': 'gzip' },
    forwarded: { range: 'bytes=0-' },
  });
  assert.deepEqual(h, { 'user-agent': 'UA/1', accept: '*/*', 'accept-encoding': 'identity', referer: 'r', cookie: 'c=1', range: 'bytes=0-' });
});

test('issue 12.1 RFC 9110 §12.5.3: media goes upstream as identity; a playlist fetch overrides it through forwarded', () => {
  assert.equal(buildUpstreamHeaders({ userAgent: 'UA', custom: {} })['accept-encoding'], 'identity');
  assert.equal(buildUpstreamHeaders({ userAgent: 'UA', custom: {}, forwarded: { 'accept-encoding': 'gzip, br' } })['accept-encoding'], 'gzip, br');
});

test('issue 12.1: Content-Encoding of media an origin compressed anyway is mirrored, so the player can decode it', () => {
  const out = mirrorResponseHeaders({ 'content-type': 'video/mp2t', 'content-encoding': 'gzip', 'content-length': '42' }, 'http://h/a.ts');
  assert.deepEqual(out, { 'content-type': 'video/mp2t', 'content-length': '42', 'content-encoding': 'gzip' });
});

test('buildUpstreamHeaders: a custom Accept or User-Agent overrides the defaults', () => {
  const h = buildUpstreamHeaders({ userAgent: 'UA/1', custom: { Accept: 'video/*', 'User-Agent': 'Custom' } });
  assert.equal(h['accept'], 'video/*');
  assert.equal(h['user-agent'], 'Custom');
});

test('pickPlayerHeaders: only Range and the conditionals', () => {
  const picked = pickPlayerHeaders({ range: 'bytes=5-', 'if-range': '"e"', 'if-none-match': '"e"', 'if-modified-since': 'x', cookie: 'no', 'x-api-token': 'no' });
  assert.deepEqual(picked, { range: 'bytes=5-', 'if-range': '"e"', 'if-none-match': '"e"', 'if-modified-since': 'x' });
  assert.equal(isConditional(picked), true);
  assert.equal(isConditional({ range: 'bytes=0-' }), false);
});

test('contentTypeFor: the origin type wins unless missing or octet-stream', () => {
  assert.equal(contentTypeFor('video/mp2t', 'http://h/a.mp4'), 'video/mp2t');
  assert.equal(contentTypeFor(undefined, 'http://h/a.mp4?x=1'), 'video/mp4');
  assert.equal(contentTypeFor('application/octet-stream', 'http://h/live.ts'), 'video/mp2t');
  assert.equal(contentTypeFor('Application/Octet-Stream; charset=x', 'http://h/a.mkv'), 'video/x-matroska');
  assert.equal(contentTypeFor('application/octet-stream', 'http://h/noext'), 'application/octet-stream');
  assert.equal(contentTypeFor(undefined, 'http://h/noext'), undefined);
});

test('mirrorResponseHeaders: the seek/cache set only, and nothing the Connection header names', () => {
  const out = mirrorResponseHeaders(
    {
      'content-type': 'video/mp4',
      'content-length': '10',
      'content-range': 'bytes 0-9/100',
      'accept-ranges': 'bytes',
      etag: '"e"',
      'last-modified': 'd',
      'set-cookie': ['s=1'],
      server: 'x',
      connection: 'keep-alive, etag',
      'transfer-encoding': 'chunked',
    },
    'http://h/a.mp4',
  );
  assert.deepEqual(out, { 'content-type': 'video/mp4', 'content-length': '10', 'content-range': 'bytes 0-9/100', 'accept-ranges': 'bytes', 'last-modified': 'd' });
});

test('dropHopByHop removes RFC 9110 §7.6.1 headers and the ones Connection lists', () => {
  assert.deepEqual(dropHopByHop({ connection: 'x-a', 'x-a': '1', 'keep-alive': 't', upgrade: 'h2', te: 'trailers', 'x-b': '2' }), { 'x-b': '2' });
});

test('parseContentRange and parseContentLength accept only well-formed values', () => {
  assert.deepEqual(parseContentRange('bytes 0-9/100'), { start: 0, end: 9, total: 100 });
  assert.deepEqual(parseContentRange('bytes 5-9/*'), { start: 5, end: 9, total: undefined });
  assert.equal(parseContentRange('bytes 9-5/100'), undefined);
  assert.equal(parseContentRange('bytes 0-100/100'), undefined);
  assert.equal(parseContentRange('bytes */100'), undefined);
  assert.equal(parseContentRange(undefined), undefined);
  assert.equal(parseContentLength('42'), 42);
  assert.equal(parseContentLength('-1'), undefined);
  assert.equal(parseContentLength('4x'), undefined);
});

test('resumeRange: open-ended when the original range ran to the end of the file', () => {
  assert.equal(resumeRange(500, 999, 1000), 'bytes=500-');
  assert.equal(resumeRange(500, 799, 1000), 'bytes=500-799');
  assert.equal(resumeRange(500, 799, undefined), 'bytes=500-799');
});

test('bodyPlanOf: Content-Length or Content-Range makes a resumable file, else a live stream', () => {
  const msg = (statusCode: number, headers: Record<string, string>) => ({ statusCode, headers }) as unknown as IncomingMessage;
  assert.deepEqual(bodyPlanOf(msg(200, { 'content-length': '100' })), { kind: 'vod', firstByte: 0, lastByte: 99, total: 100 });
  assert.deepEqual(bodyPlanOf(msg(206, { 'content-range': 'bytes 10-19/100' })), { kind: 'vod', firstByte: 10, lastByte: 19, total: 100 });
  assert.deepEqual(bodyPlanOf(msg(200, { 'transfer-encoding': 'chunked' })), { kind: 'live', closeDelimited: false });
  assert.deepEqual(bodyPlanOf(msg(200, {})), { kind: 'live', closeDelimited: true });
});

test('§5.3 ring order: current URL first, then the failovers in order, wrapping', () => {
  assert.deepEqual(ringOrder(3, 0), [0, 1, 2]);
  assert.deepEqual(ringOrder(3, 2), [2, 0, 1]);
  assert.deepEqual(ringOrder(1, 0), [0]);
  assert.deepEqual(ringOrder(3, 5), [2, 0, 1]);
});

test('back-off grows and is capped; at least one round', () => {
  assert.deepEqual([1, 2, 3, 4].map((r) => backoffMs(r)), [100, 200, 400, 800]);
  assert.equal(backoffMs(20), 2_000);
  assert.equal(roundsFor(0), 1);
  assert.equal(roundsFor(3), 3);
});

test('issue 14.4: media labelled as a playlist is not answered with the playlist type', () => {
  assert.equal(contentTypeFor('application/vnd.apple.mpegurl', 'http://h/live'), 'application/octet-stream');
  assert.equal(contentTypeFor('application/x-mpegURL', 'http://h/chan.ts'), 'video/mp2t');
});
