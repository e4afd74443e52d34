import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRewriteMemoStore, type RewriteMemoStore } from '../../src/services/hls/hls-rewrite-memo.ts';

/** One request's rewrite as the rewriter drives a memo: get each reference in order, set on a miss, end when whole. */
function fetchOnce(store: RewriteMemoStore, client: string, refs: readonly string[], seal: (ref: string) => string, base = 'http://o/live.m3u8'): string[] {
  const memo = store.memoFor('s', client, base);
  const out = refs.map((ref) => {
    const hit = memo.get(ref);
    if (hit !== undefined) return hit;
    const uri = seal(ref);
    memo.set(ref, uri);
    return uri;
  });
  memo.end?.(false);
  return out;
}

function counter(): { seal: (ref: string) => string; count: () => number } {
  let n = 0;
  return { seal: (ref) => `${ref}#${++n}`, count: () => n };
}

test('a memo is per stream, client and base URL', () => {
  const store = createRewriteMemoStore();
  const m = store.memoFor('s1', 'c1', 'http://o/a.m3u8');
  m.set('x.ts', 'U1');
  m.end?.(false);
  assert.equal(store.memoFor('s1', 'c1', 'http://o/a.m3u8').get('x.ts'), 'U1');
  assert.equal(store.memoFor('s1', 'c2', 'http://o/a.m3u8').get('x.ts'), undefined);
  assert.equal(store.memoFor('s2', 'c1', 'http://o/a.m3u8').get('x.ts'), undefined);
  assert.equal(store.memoFor('s1', 'c1', 'http://o/b/a.m3u8').get('x.ts'), undefined);
  assert.equal(store.memoFor('s1c', '1', 'http://o/a.m3u8').get('x.ts'), undefined, 'no collision across fields');
});

test('a reload gets the URIs of the last fetch: a sliding window, a reordered playlist, and new segments sealed once', () => {
  const store = createRewriteMemoStore();
  const { seal, count } = counter();
  const window = (start: number): string[] => Array.from({ length: 6 }, (_, i) => `${start + i}.ts`);
  const first = fetchOnce(store, 'c', window(0), seal);
  assert.equal(count(), 6);
  const second = fetchOnce(store, 'c', window(2), seal);
  assert.equal(count(), 8, 'only the two new segments were sealed');
  assert.deepEqual(second.slice(0, 4), first.slice(2), 'the segments still in the window kept their URIs');
  const reordered = fetchOnce(store, 'c', [...window(2)].reverse(), seal);
  assert.equal(count(), 8, 'out of order, still remembered');
  assert.deepEqual(reordered, [...second].reverse());
});

test('within one first fetch, a key or byte-range file repeated per segment keeps one URI', () => {
  const store = createRewriteMemoStore();
  const { seal, count } = counter();
  const refs: string[] = [];
  for (let i = 0; i < 50; i++) refs.push('key.bin', 'init.mp4', 'all.ts');
  const out = fetchOnce(store, 'c', refs, seal);
  assert.equal(count(), 3);
  assert.equal(new Set(out).size, 3);
});

test('a fetch that failed (no end) does not replace the last complete one', () => {
  const store = createRewriteMemoStore();
  const { seal, count } = counter();
  const first = fetchOnce(store, 'c', ['a.ts', 'b.ts'], seal);
  const failed = store.memoFor('s', 'c', 'http://o/live.m3u8');
  assert.equal(failed.get('a.ts'), first[0]);
  assert.equal(failed.get('zz.ts'), undefined);
  failed.set('zz.ts', 'U');
  assert.deepEqual(fetchOnce(store, 'c', ['a.ts', 'b.ts'], seal), first);
  assert.equal(count(), 2);
});

test('a sliding window holds about one window', () => {
  const store = createRewriteMemoStore();
  const window = 500;
  for (let start = 0; start < 5000; start += 10) fetchOnce(store, 'c', Array.from({ length: window }, (_, i) => `${start + i}.ts`), (r) => `U${r}`);
  assert.ok(store.entries() <= window, `held ${store.entries()}`);
  const memo = store.memoFor('s', 'c', 'http://o/live.m3u8');
  assert.equal(memo.get('4990.ts'), 'U4990.ts', 'the current window is still there');
  assert.equal(memo.get('0.ts'), undefined, 'the first segments are gone');
});

test('the store is bounded in contexts and in entries, dropping the least recently used', () => {
  const store = createRewriteMemoStore({ maxContexts: 3, maxEntries: 1000 });
  for (const c of ['a', 'b', 'c', 'd']) fetchOnce(store, c, ['x'], () => c, 'u');
  assert.equal(store.memoFor('s', 'a', 'u').get('x'), undefined, 'the oldest context went');
  assert.equal(store.memoFor('s', 'd', 'u').get('x'), 'd');
  fetchOnce(store, 'big', Array.from({ length: 1200 }, (_, i) => String(i)), () => 'v', 'u');
  store.memoFor('s', 'big', 'u');
  assert.ok(store.entries() <= 1000, `held ${store.entries()}`);
  assert.equal(store.memoFor('s', 'big', 'u').get('0'), 'v', 'the one in use is kept');
});

test('issue 14.3: one huge playlist cannot grow its memo past the bound within a single request', () => {
  const store = createRewriteMemoStore({ maxEntries: 1000 });
  const refs = Array.from({ length: 100_000 }, (_, i) => `seg${i}.ts`);
  fetchOnce(store, 'c', refs, (r) => `U${r}`, 'http://o/endless.m3u8');
  assert.ok(store.entries() <= 1000, `held ${store.entries()} entries after one request of 100,000 URIs`);
  const memo = store.memoFor('s', 'c', 'http://o/endless.m3u8');
  assert.equal(memo.get('seg0.ts'), 'Useg0.ts', 'the first entries stay usable');
  assert.equal(memo.get('seg99999.ts'), undefined, 'the rest is sealed again');
});

test('RFC 8216 §6.3.4: a VOD playlist (EXT-X-ENDLIST) is kept from its second fetch on, a live one from its first', () => {
  const store = createRewriteMemoStore();
  const vod = (n: number): string | undefined => {
    const memo = store.memoFor('s', 'c', 'http://o/vod.m3u8');
    const hit = memo.get('a.ts');
    if (hit === undefined) memo.set('a.ts', `U${n}`);
    memo.end?.(true);
    return hit;
  };
  assert.equal(vod(1), undefined);
  assert.equal(store.entries(), 0, 'a VOD playlist fetched once holds nothing');
  assert.equal(vod(2), undefined, 'its second fetch is a miss, and is kept');
  assert.equal(vod(3), 'U2');
  const live = store.memoFor('s', 'c', 'http://o/live.m3u8');
  live.set('b.ts', 'L');
  live.end?.(false);
  assert.equal(store.memoFor('s', 'c', 'http://o/live.m3u8').get('b.ts'), 'L');
});
