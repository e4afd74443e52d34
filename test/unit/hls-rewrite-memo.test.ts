import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRewriteMemoStore } from '../../src/services/hls/hls-rewrite-memo.ts';

test('a memo is per stream, client and base URL', () => {
  const store = createRewriteMemoStore();
  store.memoFor('s1', 'c1', 'http://o/a.m3u8').set('s', 'x.ts', 'U1');
  assert.equal(store.memoFor('s1', 'c1', 'http://o/a.m3u8').get('s', 'x.ts'), 'U1');
  assert.equal(store.memoFor('s1', 'c1', 'http://o/a.m3u8').get('p', 'x.ts'), undefined, 'kinds are apart');
  assert.equal(store.memoFor('s1', 'c2', 'http://o/a.m3u8').get('s', 'x.ts'), undefined);
  assert.equal(store.memoFor('s2', 'c1', 'http://o/a.m3u8').get('s', 'x.ts'), undefined);
  assert.equal(store.memoFor('s1', 'c1', 'http://o/b/a.m3u8').get('s', 'x.ts'), undefined);
  assert.equal(store.memoFor('s1c', '1', 'http://o/a.m3u8').get('s', 'x.ts'), undefined, 'no collision across fields');
});

test('a sliding window sheds old segments within about two window lengths', () => {
  const store = createRewriteMemoStore();
  const window = 500;
  for (let start = 0; start < 5000; start += 10) {
    const memo = store.memoFor('s', 'c', 'http://o/live.m3u8');
    for (let i = start; i < start + window; i++) if (memo.get('s', `${i}.ts`) === undefined) memo.set('s', `${i}.ts`, `U${i}`);
  }
  assert.ok(store.entries() <= 4 * window + 40, `held ${store.entries()}`);
  const memo = store.memoFor('s', 'c', 'http://o/live.m3u8');
  assert.equal(memo.get('s', '4990.ts'), 'U4990', 'the current window is still there');
  assert.equal(memo.get('s', '0.ts'), undefined, 'the first segments are gone');
});

test('the store is bounded in contexts and in entries, dropping the least recently used', () => {
  const store = createRewriteMemoStore({ maxContexts: 3, maxEntries: 1000 });
  for (const c of ['a', 'b', 'c', 'd']) store.memoFor('s', c, 'u').set('s', 'x', c);
  assert.equal(store.memoFor('s', 'a', 'u').get('s', 'x'), undefined, 'the oldest context went');
  assert.equal(store.memoFor('s', 'd', 'u').get('s', 'x'), 'd');
  const big = store.memoFor('s', 'big', 'u');
  for (let i = 0; i < 1200; i++) big.set('s', String(i), 'v');
  store.memoFor('s', 'big', 'u');
  assert.ok(store.entries() <= 1200, 'the others were dropped to make room');
  assert.equal(store.memoFor('s', 'big', 'u').get('s', '1199'), 'v', 'the one in use is kept');
});

test('issue 14.3: one huge playlist cannot grow its memo past the bound within a single request', () => {
  const store = createRewriteMemoStore({ maxEntries: 1000 });
  const memo = store.memoFor('s', 'c', 'http://o/endless.m3u8');
  for (let i = 0; i < 100_000; i++) memo.set('s', `seg${i}.ts`, `U${i}`);
  assert.ok(store.entries() <= 1000, `held ${store.entries()} entries after one request of 100,000 URIs`);
  assert.equal(memo.get('s', 'seg99999.ts'), 'U99999', 'the newest entries stay usable');
});
