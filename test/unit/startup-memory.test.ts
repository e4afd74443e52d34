// Issue 24 item 7: the start-up flags that let V8's memory reducer give start-up's memory back at once, and undo.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { STARTUP_REDUCER_DELAY_MS, V8_REDUCER_DELAY_MS, settleAfterStartup } from '../../src/startup-memory.ts';

function recorder(): { flags: string[]; setFlags: (f: string) => void } {
  const flags: string[] = [];
  return { flags, setFlags: (f) => void flags.push(f) };
}

test('sets an early reducer and optimize-for-size, and gives both back to V8 after the window', async () => {
  const r = recorder();
  const set = settleAfterStartup({ execArgv: [], nodeOptions: '', setFlags: r.setFlags, windowMs: 5 });
  const early = [`--gc-memory-reducer-start-delay-ms=${STARTUP_REDUCER_DELAY_MS}`, '--optimize-for-size'];
  assert.deepEqual(set, early);
  assert.deepEqual(r.flags, early);
  await sleep(50);
  assert.deepEqual(r.flags, [...early, `--gc-memory-reducer-start-delay-ms=${V8_REDUCER_DELAY_MS}`, '--no-optimize-for-size']);
});

test("an operator's own flags win: optimize-for-size is left alone, and so is everything when the delay is theirs", async () => {
  const own = recorder();
  assert.deepEqual(settleAfterStartup({ execArgv: ['--optimize-for-size'], nodeOptions: '', setFlags: own.setFlags, windowMs: 5 }), [
    `--gc-memory-reducer-start-delay-ms=${STARTUP_REDUCER_DELAY_MS}`,
  ]);
  const delay = recorder();
  assert.deepEqual(settleAfterStartup({ execArgv: ['--gc_memory_reducer_start_delay_ms=100'], nodeOptions: '', setFlags: delay.setFlags, windowMs: 5 }), []);
  await sleep(50);
  assert.deepEqual(own.flags, [`--gc-memory-reducer-start-delay-ms=${STARTUP_REDUCER_DELAY_MS}`, `--gc-memory-reducer-start-delay-ms=${V8_REDUCER_DELAY_MS}`]);
  assert.deepEqual(delay.flags, [], 'nothing set, nothing undone');
});
