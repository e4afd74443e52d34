// Issue 10 item 8: the relay fixes V8's heap growth and sweeps ArrayBuffers on the main thread, unless the operator chose either
// (flag or NODE_OPTIONS, either spelling, or its negation).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tuneHeapForRelay } from '../../src/gc-tuning.ts';

const GROWTH = '--heap-growing-percent=300';
const SWEEP = '--no-concurrent-array-buffer-sweeping';
const SEMI = '--semi-space-growth-factor=1';

test("an operator's own --heap-growing-percent wins, by flag or NODE_OPTIONS, in either spelling", () => {
  assert.deepEqual(tuneHeapForRelay(['--heap-growing-percent=50'], ''), [SWEEP, SEMI]);
  assert.deepEqual(tuneHeapForRelay(['--heap_growing_percent=50'], ''), [SWEEP, SEMI]);
  assert.deepEqual(tuneHeapForRelay([], '--max-old-space-size=512 --heap-growing-percent=20'), [SWEEP, SEMI]);
  assert.deepEqual(tuneHeapForRelay([], '--max-old-space-size=512'), [GROWTH, SWEEP, SEMI], 'otherwise both are set');
});

test("an operator's own choice of ArrayBuffer sweeping wins, either way", () => {
  assert.deepEqual(tuneHeapForRelay(['--concurrent-array-buffer-sweeping'], ''), [GROWTH, SEMI]);
  assert.deepEqual(tuneHeapForRelay([], '--no_concurrent_array_buffer_sweeping'), [GROWTH, SEMI]);
  assert.deepEqual(tuneHeapForRelay(['--noconcurrent-array-buffer-sweeping'], ''), [GROWTH, SEMI]);
  assert.deepEqual(tuneHeapForRelay(['--concurrent-array-buffer-sweeping-x'], ''), [GROWTH, SWEEP, SEMI], 'another flag is not this one');
});

test("issue 24.7: the young generation stays at its first size unless the operator sized it", () => {
  assert.deepEqual(tuneHeapForRelay([], ''), [GROWTH, SWEEP, SEMI]);
  assert.deepEqual(tuneHeapForRelay(['--max-semi-space-size=16'], ''), [GROWTH, SWEEP]);
  assert.deepEqual(tuneHeapForRelay([], '--min_semi_space_size=4'), [GROWTH, SWEEP]);
  assert.deepEqual(tuneHeapForRelay(['--semi-space-growth-factor=2'], ''), [GROWTH, SWEEP]);
});
