// The start-retry limit (research §6.2 step 2) on a fake clock, and the removal of abandoned broadcast directories
// (research §6.3 GC, §6.5 DVR) on real temporary directories with set modification times.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { removeIfIdle, sweepBroadcastDirs } from '../../src/services/broadcast/dir-gc.ts';
import { StartRetries } from '../../src/services/broadcast/start-retries.ts';

const HOUR = 3600_000;

test('start retries: refused at the limit until the cool-down after the last attempt; a window resets; clear forgets', () => {
  let now = 1_000_000;
  const r = new StartRetries({ max: 3, windowMs: 300_000, cooldownMs: 15_000, now: () => now });
  for (let i = 0; i < 3; i++) {
    r.check('n');
    r.failed('n');
    now += 1_000;
  }
  assert.throws(() => r.check('n'), (e: { status: number; message: string }) =>
    e.status === 500 && e.message === 'Exceeded max start retries for broadcast n; retry allowed after 14s');
  r.check('other'); // networks are counted apart
  now += 14_000;
  r.check('n'); // 15 s after the last attempt: allowed again, count reset
  r.failed('n');
  r.check('n');
  r.clear('n');
  assert.equal(r.size, 0);
  r.failed('w');
  r.failed('w');
  now += 301_000;
  r.failed('w'); // the first two are out of the window once checked
  r.check('w');
  r.check('w');
  r.failed('x');
  now += 301_000;
  r.prune();
  assert.equal(r.size, 0, 'old records are pruned');
});

function makeDir(path: string, ageMs: number, files: string[] = []): void {
  mkdirSync(path, { recursive: true });
  const at = (Date.now() - ageMs) / 1000;
  for (const name of files) {
    writeFileSync(join(path, name), 'x');
    utimesSync(join(path, name), at, at);
  }
  utimesSync(path, at, at);
}

test('abandoned directories: old, unlisted and unread go; young, in use, DVR under a day and foreign names stay', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'bc-gc-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const live = join(root, 'live');
  const dvr = join(root, 'dvr');
  makeDir(join(live, 'broadcast_old'), 2 * HOUR, ['live.m3u8', 'live000001.ts']);
  makeDir(join(live, 'broadcast_young'), 10 * 60_000, ['live.m3u8']);
  makeDir(join(live, 'broadcast_listed'), 5 * HOUR);
  makeDir(join(live, 'not-a-broadcast'), 5 * HOUR);
  makeDir(join(live, 'broadcast_fresh-file'), 5 * HOUR, ['live.m3u8']);
  writeFileSync(join(live, 'broadcast_fresh-file', 'live000009.ts'), 'new'); // written just now: the directory is alive
  makeDir(join(dvr, 'broadcast_rec-recent'), 3 * HOUR, ['live000000.ts']);
  makeDir(join(dvr, 'broadcast_rec-old'), 25 * HOUR, ['live000000.ts']);
  const errors: unknown[] = [];
  const removed = await sweepBroadcastDirs({
    bases: [{ dir: live, minAgeMs: HOUR }, { dir: dvr, minAgeMs: 24 * HOUR }, { dir: join(root, 'missing'), minAgeMs: HOUR }],
    inUse: (id) => id === 'listed',
    remove: (_id, dir, minAgeMs) => removeIfIdle(dir, minAgeMs, Date.now()),
    onError: (_dir, error) => errors.push(error),
  });
  assert.deepEqual(errors, []);
  assert.deepEqual(removed.sort(), [join(dvr, 'broadcast_rec-old'), join(live, 'broadcast_old')]);
  for (const kept of ['broadcast_young', 'broadcast_listed', 'not-a-broadcast', 'broadcast_fresh-file']) assert.ok(existsSync(join(live, kept)), kept);
  assert.ok(existsSync(join(dvr, 'broadcast_rec-recent')), 'a recording is kept at least a day');
});
