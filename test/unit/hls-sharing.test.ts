// The pure parts of HLS sharing (issue 10 item 7): the single-flight map, the byte-bounded cache, byte ranges.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createByteCache, parseByteRange } from '../../src/services/hls/segment-cache.ts';
import { createSingleFlight, flightKey } from '../../src/services/hls/single-flight.ts';

test('single flight: the first request leads, later ones follow and get its result until the flight ends', async () => {
  const flights = createSingleFlight<string>();
  const lead = flights.begin('k');
  const follow = flights.begin('k');
  assert.equal(lead.leader, true);
  assert.equal(follow.leader, false);
  if (!lead.leader || follow.leader) return;
  lead.settle('body');
  assert.equal(await follow.result, 'body');
  const late = flights.begin('k');
  assert.equal(late.leader, false, 'still joinable after settle, until end()');
  lead.end();
  assert.equal(flights.size(), 0);
  const next = flights.begin('k');
  assert.equal(next.leader, true, 'a new flight after end()');
  if (next.leader) next.end();
});

test('single flight: a leader that ends without a result lets its followers fetch themselves', async () => {
  const flights = createSingleFlight<string>();
  const lead = flights.begin('k');
  const follow = flights.begin('k');
  if (!lead.leader || follow.leader) return assert.fail('roles');
  const newer = (lead.end(), flights.begin('k'));
  assert.equal(await follow.result, undefined);
  lead.end(); // twice: harmless, and does not close the newer flight
  assert.equal(flights.size(), 1);
  if (newer.leader) newer.end();
});

test('flight keys never collide across stream, variant and URL', () => {
  assert.notEqual(flightKey('ab', 'c'), flightKey('a', 'bc'));
  assert.notEqual(flightKey('s', 'u', 'v1'), flightKey('s', 'u', 'v'));
  assert.equal(flightKey('s', 'http://o/a.ts'), flightKey('s', 'http://o/a.ts'));
});

test('the cache is bounded by bytes, dropping the least recently used, and never holds an entry over the cap', () => {
  let now = 0;
  const cache = createByteCache<string>({ maxBytes: 100, maxEntryBytes: 60, now: () => now });
  cache.set('a', 'A', 40, 1000);
  cache.set('b', 'B', 40, 1000);
  assert.equal(cache.get('a'), 'A', 'a is now the most recent');
  cache.set('c', 'C', 40, 1000);
  assert.equal(cache.get('b'), undefined, 'b was the least recently used');
  assert.equal(cache.get('a'), 'A');
  assert.equal(cache.bytes(), 80);
  cache.set('big', 'X', 61, 1000);
  assert.equal(cache.get('big'), undefined);
  assert.equal(cache.fits(61), false);
  assert.equal(cache.bytes(), 80);
});

test('cache entries expire', () => {
  let now = 0;
  const cache = createByteCache<string>({ maxBytes: 100, now: () => now });
  cache.set('a', 'A', 10, 500);
  now = 499;
  assert.equal(cache.get('a'), 'A');
  now = 500;
  assert.equal(cache.get('a'), undefined);
  assert.equal(cache.bytes(), 0, 'an expired entry frees its bytes');
  const off = createByteCache<string>({ maxBytes: 0 });
  off.set('a', 'A', 1, 1000);
  assert.equal(off.get('a'), undefined, 'a zero-byte cache holds nothing');
});

test('RFC 9110 §14.1.2 byte ranges of a cached body', () => {
  assert.deepEqual(parseByteRange('bytes=0-99', 1000), [0, 99]);
  assert.deepEqual(parseByteRange('bytes=900-', 1000), [900, 999]);
  assert.deepEqual(parseByteRange('bytes=-100', 1000), [900, 999]);
  assert.deepEqual(parseByteRange('bytes=990-5000', 1000), [990, 999]);
  assert.equal(parseByteRange('bytes=1000-', 1000), undefined);
  assert.equal(parseByteRange('bytes=5-2', 1000), undefined);
  assert.equal(parseByteRange('bytes=0-1,5-6', 1000), undefined);
  assert.equal(parseByteRange('items=0-1', 1000), undefined);
});
