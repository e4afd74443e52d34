import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bitrateTracker } from '../../src/http/ui/bitrate.ts';

test('byte deltas become bit/s per stream and in total; first sight, reset and removal give no spurious rate', () => {
  const track = bitrateTracker();
  assert.deepEqual(track(new Map([['a', 1000]]), 0), { streams: { a: 0 }, total: 0 });
  assert.deepEqual(track(new Map([['a', 2000], ['b', 50]]), 1000), { streams: { a: 8000, b: 0 }, total: 8000 });
  assert.deepEqual(track(new Map([['a', 1500], ['b', 300]]), 3000), { streams: { a: 0, b: 1000 }, total: 1000 });
  assert.deepEqual(track(new Map(), 4000), { streams: {}, total: 0 });
});
