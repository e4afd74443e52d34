// Issue 24 item 7: the garbage of a finished load is collected once the server is idle, never while it is busy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IDLE_GC_GROWTH_BYTES, IDLE_GC_MAX_UTILIZATION, gcFunction, shouldCollect, startIdleGc } from '../../src/idle-gc.ts';

const MB = 1024 * 1024;

test('collects only when idle and the heap grew since the last collection', () => {
  assert.equal(shouldCollect(0, 20 * MB, 10 * MB), true, 'idle, 10 MB of new heap');
  assert.equal(shouldCollect(IDLE_GC_MAX_UTILIZATION, 20 * MB, 10 * MB), false, 'a busy event loop never pays a full GC');
  assert.equal(shouldCollect(0.5, 200 * MB, 10 * MB), false);
  assert.equal(shouldCollect(0, 10 * MB + IDLE_GC_GROWTH_BYTES - 1, 10 * MB), false, 'too little to be worth it');
  assert.equal(shouldCollect(0, 10 * MB + IDLE_GC_GROWTH_BYTES, 10 * MB), true);
});

test('this V8 offers gc() once --expose-gc is set at run time', () => {
  assert.equal(typeof gcFunction(), 'function');
});

test('the idle check makes no gc() at start-up (its context is made at the first collection) and stops', (t) => {
  let asked = 0;
  const stop = startIdleGc(undefined, () => {
    asked += 1;
    return undefined;
  });
  t.after(stop);
  assert.equal(typeof stop, 'function');
  assert.equal(asked, 0, 'no context for gc() is made before a collection is due');
});
