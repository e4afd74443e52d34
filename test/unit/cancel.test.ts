import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { cancelReason, isCancelled, onCancel, signalFor } from '../../src/core/cancel.ts';

/** A player's response as the helpers see it: 'close' once, destroyed from then on. */
function player(): EventEmitter & { destroyed: boolean; leave(): void } {
  const p = Object.assign(new EventEmitter(), { destroyed: false, leave: () => undefined });
  p.leave = () => {
    p.destroyed = true;
    p.emit('close');
  };
  return p;
}

test('a wait is cancelled by its signal or by the player leaving, and says why', () => {
  const ac = new AbortController();
  const p = player();
  assert.equal(isCancelled({ signal: ac.signal, player: p }), false);
  p.leave();
  assert.equal(isCancelled({ player: p }), true);
  assert.equal(cancelReason({ player: p }).name, 'AbortError');
  const why = new Error('switch');
  ac.abort(why);
  assert.equal(isCancelled({ signal: ac.signal }), true);
  assert.equal(cancelReason({ signal: ac.signal }), why);
});

test('onCancel listens to both sources until it is turned off, and leaves no listener', () => {
  const ac = new AbortController();
  const p = player();
  let calls = 0;
  const off = onCancel({ signal: ac.signal, player: p }, () => calls++);
  p.leave();
  assert.equal(calls, 1);
  off();
  assert.equal(p.listenerCount('close'), 0);
  ac.abort();
  assert.equal(calls, 1, 'no call once turned off');
});

test('signalFor makes a signal from the player only when the wait has none', () => {
  const own = new AbortController().signal;
  assert.equal(signalFor({ signal: own, player: player() }).signal, own);
  assert.equal(signalFor({}).signal, undefined);
  const p = player();
  const made = signalFor({ player: p });
  assert.equal(made.signal?.aborted, false);
  p.leave();
  assert.equal(made.signal?.aborted, true);
  const q = player();
  const followed = signalFor({ player: q });
  followed.done();
  assert.equal(q.listenerCount('close'), 0, 'done() stops following the player');
  const gone = player();
  gone.leave();
  assert.equal(signalFor({ player: gone }).signal?.aborted, true, 'a player already gone gives an aborted signal');
});
