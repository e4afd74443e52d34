// services/upstream/failover.ts walkRing's hooks (a resolver's answer tried next, strict_live_ts skips) and
// core/registry.ts placeResolvedUrl: pure logic, no sockets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_RESOLVED_URLS, MemoryRegistry, placeResolvedUrl, urlRing } from '../../src/core/registry.ts';
import { UpstreamError } from '../../src/errors.ts';
import { walkRing } from '../../src/services/upstream/failover.ts';

const never = new AbortController().signal;

test('a failed try asks next(); its answer is tried at once, before the rest of the order', async () => {
  const tried: number[] = [];
  const asked: number[] = [];
  const result = await walkRing({
    ringLength: 2,
    startIndex: 0,
    rounds: 1,
    signal: never,
    attempt: async (i) => {
      tried.push(i);
      if (i !== 7) throw new UpstreamError('down');
      return 'ok';
    },
    onError: () => undefined,
    next: async (failed) => {
      asked.push(failed);
      return failed === 0 ? 7 : undefined;
    },
  });
  assert.deepEqual(result, { value: 'ok', index: 7 });
  assert.deepEqual(tried, [0, 7]);
  assert.deepEqual(asked, [0]);
});

test('skip() leaves positions out of the walk, unless it would leave none', async () => {
  const tried: number[] = [];
  const attempt = async (i: number): Promise<string> => {
    tried.push(i);
    throw new UpstreamError('down');
  };
  await assert.rejects(walkRing({ ringLength: 3, startIndex: 0, rounds: 1, signal: never, attempt, onError: () => undefined, skip: (i) => i === 1 }));
  assert.deepEqual(tried, [0, 2]);
  tried.length = 0;
  await assert.rejects(walkRing({ ringLength: 2, startIndex: 0, rounds: 1, signal: never, attempt, onError: () => undefined, skip: () => true }));
  assert.deepEqual(tried, [0, 1], 'every URL cooling down: all are tried');
});

test('a resolved URL joins the ring after the failover URLs; a known one keeps its position; the slots are bounded', () => {
  const registry = new MemoryRegistry(() => 0);
  const { stream } = registry.upsertStream('s', { url: 'http://a/1', failoverUrls: ['http://b/1'], userAgent: null, headers: {}, metadata: {}, kind: 'direct' });
  assert.equal(placeResolvedUrl(stream, 'http://b/1'), 1);
  assert.equal(placeResolvedUrl(stream, 'http://r/1'), 2);
  assert.equal(placeResolvedUrl(stream, 'http://r/1'), 2);
  for (let i = 2; i <= MAX_RESOLVED_URLS; i++) placeResolvedUrl(stream, `http://r/${i}`);
  assert.equal(urlRing(stream).length, 2 + MAX_RESOLVED_URLS);
  const reused = placeResolvedUrl(stream, 'http://r/new');
  assert.ok(reused >= 2 && reused < 2 + MAX_RESOLVED_URLS, 'an existing slot is reused: positions stay stable');
  assert.equal(urlRing(stream).length, 2 + MAX_RESOLVED_URLS);
  assert.equal(urlRing(stream)[reused], 'http://r/new');

  // Another resolver (or none) on a re-create forgets what the old one handed out.
  registry.upsertStream('s', { url: 'http://a/1', failoverUrls: ['http://b/1'], userAgent: null, headers: {}, metadata: {}, kind: 'direct', resolverUrl: 'http://editor/r' });
  assert.deepEqual(urlRing(stream), ['http://a/1', 'http://b/1']);
  assert.equal(stream.currentIndex < urlRing(stream).length, true);
});
