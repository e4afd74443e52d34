// Per-viewer HLS state: least recently used first out, and dropped with its viewer or its stream.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRewriteMemoStore } from '../../src/services/hls/hls-rewrite-memo.ts';
import { ViewerLru } from '../../src/services/hls/viewer-lru.ts';

test('the least recently used entry goes first; use() makes an entry the most recent', () => {
  const lru = new ViewerLru<string>();
  lru.add('s', 'a', 'k1', 'one');
  lru.add('s', 'b', 'k2', 'two');
  lru.add('s', 'a', 'k3', 'three');
  assert.equal(lru.use('k1'), 'one');
  assert.equal(lru.use('missing'), undefined);
  assert.equal(lru.dropOldest(), 'two');
  assert.equal(lru.dropOldest(), 'three');
  assert.deepEqual([...lru.values()], ['one']);
  assert.equal(lru.size, 1);
});

test("forget drops every entry of one viewer and nobody else's, also after some of them were dropped as oldest", () => {
  const lru = new ViewerLru<number>();
  lru.add('s', 'a', 'a1', 1);
  lru.add('s', 'b', 'b1', 2);
  lru.add('s', 'a', 'a2', 3);
  assert.equal(lru.dropOldest(), 1);
  lru.forget('s', 'a');
  assert.deepEqual([...lru.values()], [2]);
  lru.forget('s', 'a'); // twice, or a viewer never seen: nothing happens
  lru.forget('t', 'x');
  assert.equal(lru.size, 1);
  // Keys given back by dropOldest and forget can be added again.
  lru.add('s', 'a', 'a1', 4);
  assert.deepEqual([...lru.values()], [2, 4]);
});

test('forgetStream drops the viewers of that stream only, whatever the ids run together as', () => {
  const lru = new ViewerLru<string>();
  lru.add('ab', 'c', 'x', 'ab/c');
  lru.add('abc', '', 'y', 'abc/');
  lru.add('a', 'bc', 'z', 'a/bc');
  lru.forgetStream('ab');
  assert.deepEqual([...lru.values()], ['abc/', 'a/bc']);
  lru.forgetStream('a');
  assert.deepEqual([...lru.values()], ['abc/']);
});

test('the rewrite memo store forgets a client and a stream', () => {
  const store = createRewriteMemoStore();
  store.memoFor('s1', 'a', 'base1');
  store.memoFor('s1', 'a', 'base2');
  store.memoFor('s1', 'b', 'base1');
  store.memoFor('s2', 'a', 'base1');
  assert.equal(store.contexts(), 4);
  store.forget('s1', 'a');
  assert.equal(store.contexts(), 2);
  store.forgetStream('s1');
  assert.equal(store.contexts(), 1);
  store.forgetStream('s2');
  assert.equal(store.contexts(), 0);
});
