// Issue 10 item 8: the relay fixes V8's heap growth, unless the operator chose it (flag or NODE_OPTIONS).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tuneHeapForRelay } from '../../src/gc-tuning.ts';

test("an operator's own --heap-growing-percent wins, by flag or NODE_OPTIONS, in either spelling", () => {
  assert.equal(tuneHeapForRelay(['--heap-growing-percent=50'], ''), false);
  assert.equal(tuneHeapForRelay(['--heap_growing_percent=50'], ''), false);
  assert.equal(tuneHeapForRelay([], '--max-old-space-size=512 --heap-growing-percent=20'), false);
  assert.equal(tuneHeapForRelay([], '--max-old-space-size=512'), true, 'otherwise it is set');
});
