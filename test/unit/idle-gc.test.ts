// Issue 24 item 7: the garbage of a finished load is collected once the server is idle, never while it is busy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { IDLE_GC_GROWTH_BYTES, IDLE_GC_MAX_UTILIZATION, compacting, gcFunction, shouldCollect, startIdleGc } from '../../src/idle-gc.ts';

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

/** Old space after `collect`, once a load left every other one of its records alive, scattered over every page. */
function oldSpaceAfterLoad(plain: () => void, collect: () => void): number {
  let records: Array<{ n: number; xs: number[] }> = [];
  for (let i = 0; i < 200_000; i++) records.push({ n: i, xs: [i] });
  plain();
  plain(); // promoted to the old generation
  const survivors = records.filter((_, i) => i % 2 === 0);
  records = [];
  collect();
  const size = getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_size ?? 0;
  assert.equal(survivors.length, 100_000);
  return size;
}

test('the idle collection compacts: an old generation left half full gives its pages back', () => {
  setFlagsFromString('--expose-gc');
  const plain = runInNewContext('gc') as () => void;
  const mb = (x: number): string => `${(x / MB).toFixed(1)} MB`;
  const afterPlain = oldSpaceAfterLoad(plain, plain);
  const afterIdle = oldSpaceAfterLoad(plain, compacting(plain, false));
  assert.ok(afterIdle < afterPlain - 3 * MB, `old space ${mb(afterPlain)} after a plain GC, ${mb(afterIdle)} after the idle one`);
  // The flag is off again: the next plain GC leaves such pages as before (compacting every full GC of a busy relay
  // would cost CPU for nothing).
  const again = oldSpaceAfterLoad(plain, plain);
  assert.ok(again > afterIdle + 3 * MB, `a plain GC after the idle one: ${mb(again)} (idle one: ${mb(afterIdle)})`);
  assert.equal(compacting(plain, true), plain, "an operator's own --compact-on-every-full-gc is left alone");
});
