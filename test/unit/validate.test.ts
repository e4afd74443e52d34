import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ValidationError } from '../../src/errors.ts';
import { metadataValue, parseMetadataFilter, parseStreamInput } from '../../src/http/validate.ts';

test('a minimal stream input gets defaults and its kind from the path', () => {
  const input = parseStreamInput({ url: 'http://example.com/a.m3u8' });
  assert.deepEqual(input, {
    url: 'http://example.com/a.m3u8',
    failoverUrls: [],
    userAgent: null,
    headers: {},
    metadata: {},
    kind: 'hls',
    resolverUrl: null,
    strictLiveTs: false,
    useStickySession: false,
    silence: {},
  });
  assert.equal(parseStreamInput({ url: 'http://e.com/movie.MKV?token=1' }).kind, 'direct');
  assert.equal(parseStreamInput({ url: 'http://e.com/live/123' }).kind, 'hls');
  assert.equal(parseStreamInput({ url: 'http://e.com/x.ts?y=.m3u8' }).kind, 'direct', 'the query is ignored');
});

test('urls must be http(s) with a host', () => {
  for (const url of ['ftp://e.com/a', 'file:///etc/passwd', 'javascript:alert(1)', 'not a url', '', 42, null, 'http://']) {
    assert.throws(() => parseStreamInput({ url }), ValidationError, String(url));
  }
  assert.throws(() => parseStreamInput({ url: 'http://e.com/a', failover_urls: ['http://ok/b', 'gopher://x'] }), /failover_urls\[1\]/);
  assert.throws(() => parseStreamInput({ url: 'http://e.com/a', failover_urls: 'http://x/y' }), ValidationError);
  assert.throws(() => parseStreamInput([]), ValidationError);
});

test('metadata scalars are stored as the reference stored them', () => {
  assert.equal(metadataValue(42, 'k'), '42');
  assert.equal(metadataValue(4.5, 'k'), '4.5');
  assert.equal(metadataValue(true, 'k'), 'True');
  assert.equal(metadataValue(false, 'k'), 'False');
  assert.equal(metadataValue('x', 'k'), 'x');
  const input = parseStreamInput({ url: 'http://e.com/a', metadata: { id: 7, live: true, name: 'A' } });
  assert.deepEqual(input.metadata, { id: '7', live: 'True', name: 'A' });
});

test('nested metadata values and arrays are rejected', () => {
  assert.throws(() => parseStreamInput({ url: 'http://e.com/a', metadata: { a: { b: 1 } } }), /metadata\.a/);
  assert.throws(() => parseStreamInput({ url: 'http://e.com/a', metadata: { a: [1] } }), ValidationError);
  assert.throws(() => parseStreamInput({ url: 'http://e.com/a', metadata: { a: null } }), ValidationError);
  assert.throws(() => parseStreamInput({ url: 'http://e.com/a', metadata: [1, 2] }), ValidationError);
});

test('headers must be strings without line breaks and with valid names', () => {
  const ok = parseStreamInput({ url: 'http://e.com/a', headers: { Referer: 'http://r/', Cookie: 'a=b' } });
  assert.deepEqual(ok.headers, { Referer: 'http://r/', Cookie: 'a=b' });
  assert.throws(() => parseStreamInput({ url: 'http://e.com/a', headers: { X: 'a\r\nInjected: 1' } }), /line break/);
  assert.throws(() => parseStreamInput({ url: 'http://e.com/a', headers: { 'Bad Name': 'v' } }), /header name/);
  assert.throws(() => parseStreamInput({ url: 'http://e.com/a', headers: { X: 1 } }), ValidationError);
  assert.throws(() => parseStreamInput({ url: 'http://e.com/a', user_agent: 'a\nb' }), ValidationError);
});

test('metadata filters come from the query or the body, exclude_channel_id as a string', () => {
  const q = parseMetadataFilter(new URLSearchParams('field=playlist&value=3&active_only=1'), undefined);
  assert.deepEqual(q, { field: 'playlist', value: '3', excludeChannelId: undefined, activeOnly: true, force: true, clientId: undefined });
  const b = parseMetadataFilter(new URLSearchParams(), { field: 'playlist', value: 3, exclude_channel_id: 12, force: false, client_id: 'tab' });
  assert.deepEqual(b, { field: 'playlist', value: '3', excludeChannelId: '12', activeOnly: true, force: false, clientId: 'tab' });
  // Laravel sends booleans as 1/0; FastAPI's words are accepted too; anything else is a 422.
  for (const [text, want] of [['0', false], ['false', false], ['1', true], ['TRUE', true]] as const) {
    assert.equal(parseMetadataFilter(new URLSearchParams(`field=a&value=b&active_only=${text}&force=${text}`), undefined).force, want);
  }
  assert.throws(() => parseMetadataFilter(new URLSearchParams('field=a&value=b&force=maybe'), undefined), /force/);
  assert.throws(() => parseMetadataFilter(new URLSearchParams('value=1'), undefined), /field/);
  assert.throws(() => parseMetadataFilter(new URLSearchParams('field=a'), undefined), /value/);
});

test('the editor\'s stream options: resolver URL, flags, share_upstream only when given, silence_* kept as given', () => {
  const input = parseStreamInput({
    url: 'http://e.com/a.ts',
    failover_resolver_url: 'http://editor/api/m3u-proxy/failover-resolver',
    strict_live_ts: true,
    use_sticky_session: true,
    enable_silence_detection: true,
    silence_threshold_db: -50,
    silence_duration: null,
    unknown_field: 1,
  });
  assert.equal(input.resolverUrl, 'http://editor/api/m3u-proxy/failover-resolver');
  assert.equal(input.strictLiveTs, true);
  assert.equal(input.useStickySession, true);
  assert.equal('shareUpstream' in input, false, 'absent: the service applies SHARE_LIVE_UPSTREAM');
  assert.deepEqual(input.silence, { enable_silence_detection: true, silence_threshold_db: -50, silence_duration: null });
  assert.equal(parseStreamInput({ url: 'http://e.com/a', share_upstream: false }).shareUpstream, false);
  assert.throws(() => parseStreamInput({ url: 'http://e.com/a', failover_resolver_url: 'ftp://x/y' }), /failover_resolver_url/);
  assert.throws(() => parseStreamInput({ url: 'http://e.com/a', strict_live_ts: 'yes' }), /strict_live_ts/);
  assert.throws(() => parseStreamInput({ url: 'http://e.com/a', silence_duration: 'long' }), /silence_duration/);
});

test('counts-by-metadata: values split on commas, blanks dropped, active_only defaults to true', async () => {
  const { parseCountsQuery } = await import('../../src/http/validate.ts');
  assert.deepEqual(parseCountsQuery(new URLSearchParams('field=p&values=1, 2,,3')), { field: 'p', values: ['1', '2', '3'], activeOnly: true });
  assert.equal(parseCountsQuery(new URLSearchParams('field=p&values=1&active_only=0')).activeOnly, false);
  assert.throws(() => parseCountsQuery(new URLSearchParams('field=p')), /values/);
});
