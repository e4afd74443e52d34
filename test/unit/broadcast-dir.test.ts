import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { servableName, lastSegmentNumber } from '../../src/services/broadcast/broadcast-dir.ts';

test('only FFmpeg output names are servable', () => {
  for (const ok of ['live.m3u8', 'live000042.ts', 'live_vtt.m3u8', 'live0.vtt']) assert.ok(servableName(ok), ok);
  for (const bad of ['..', '../live.m3u8', 'a/b.ts', '.live.m3u8', 'other.txt', 'live.m3u8.tmp', '']) {
    assert.ok(!servableName(bad), bad);
  }
});

test('last segment number from disk', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bcast-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  assert.equal(await lastSegmentNumber(join(dir, 'missing')), null);
  assert.equal(await lastSegmentNumber(dir), null);
  for (const n of ['live000007.ts', 'live000012.ts', 'live.m3u8', 'live000013.ts.tmp']) await writeFile(join(dir, n), '');
  assert.equal(await lastSegmentNumber(dir), 12);
});
