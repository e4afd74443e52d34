// services/state/group-commit.ts: many changes share few writes, and a change resolves only after a write that saw it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupCommit } from '../../src/services/state/group-commit.ts';

/** A write we finish by hand; `seen` is the change counter the write's snapshot would have captured. */
function manualWriter() {
  let changes = 0;
  const started: Array<{ seen: number; finish(err?: Error): void }> = [];
  const errors: unknown[] = [];
  const commit = new GroupCommit(
    () =>
      new Promise<void>((resolve, reject) => {
        started.push({ seen: changes, finish: (err) => (err ? reject(err) : resolve()) });
      }),
    (err) => errors.push(err),
  );
  const change = (): Promise<void> => {
    changes += 1;
    return commit.request();
  };
  const tick = () => new Promise((r) => setImmediate(r));
  return { commit, change, started, errors, tick, changes: () => changes };
}

test('100 changes in one turn share one write', async () => {
  const w = manualWriter();
  const done = Promise.all(Array.from({ length: 100 }, () => w.change()));
  await w.tick();
  assert.equal(w.started.length, 1);
  assert.equal(w.started[0]!.seen, 100, 'the write snapshot saw every change');
  w.started[0]!.finish();
  await done;
  assert.equal(w.commit.writes, 1);
});

test('changes during a write wait for the next one, which starts after it and covers all of them', async () => {
  const w = manualWriter();
  const first = w.change();
  await w.tick();
  let laterDone = false;
  const later = Promise.all(Array.from({ length: 50 }, () => w.change())).then(() => (laterDone = true));
  await w.tick();
  assert.equal(w.started.length, 1, 'no second write while one is in flight');
  w.started[0]!.finish();
  await first;
  await w.tick();
  assert.equal(laterDone, false, 'the first write started before these changes: it does not acknowledge them');
  assert.equal(w.started.length, 2);
  assert.equal(w.started[1]!.seen, 51);
  w.started[1]!.finish();
  await later;
  assert.equal(w.commit.writes, 2);
});

test('a failed write rejects its own changes, is reported once, and the next change writes again', async () => {
  const w = manualWriter();
  const failing = w.change();
  await w.tick();
  w.started[0]!.finish(new Error('ENOSPC'));
  await assert.rejects(failing, /ENOSPC/);
  assert.equal(w.errors.length, 1);
  assert.equal(w.commit.failures, 1);
  const next = w.change();
  await w.tick();
  w.started[1]!.finish();
  await next;
  await w.commit.settled();
});

test('settled() covers every change asked for so far and resolves at once when nothing is pending', async () => {
  const w = manualWriter();
  await w.commit.settled();
  void w.change();
  let settled = false;
  const s = w.commit.settled().then(() => (settled = true));
  await w.tick();
  assert.equal(settled, false);
  w.started[0]!.finish();
  await s;
});
