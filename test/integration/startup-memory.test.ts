// Issue 24 item 7: a fresh server gives back the memory its start-up took within two seconds (src/startup-memory.ts),
// measured inside the real bundle: start-up's two scavenges commit both 1 MB semi-spaces, and only a reducing GC
// gives one back. With the operator's own reducer delay (V8's 8 s), the server leaves V8 alone, and it stays at 2 MB.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { bundleServer } from '../../bin/bundle.ts';
import { tempDir } from '../helpers/children.ts';
import { waitFor } from '../helpers/origin.ts';
import { cleanEnv, spawnProxy } from '../helpers/spawn-proxy.ts';

const MB = 1024 * 1024;

/** The new space's committed bytes of a server `extraArgs` started, 2.5 s after it listened. */
async function newSpaceAfterStart(t: TestContext, dir: string, bundle: string, extraArgs: string[]): Promise<number> {
  const out = join(dir, `spaces-${extraArgs.length}.json`);
  const preload = join(dir, `spaces-${extraArgs.length}.cjs`);
  // Written whole, then renamed: the test never reads a half-written file.
  writeFileSync(
    preload,
    `process.on('SIGUSR2', () => { const fs = require('node:fs'); const s = require('node:v8').getHeapSpaceStatistics().find((x) => x.space_name === 'new_space'); fs.writeFileSync(${JSON.stringify(`${out}.tmp`)}, String(s.physical_space_size)); fs.renameSync(${JSON.stringify(`${out}.tmp`)}, ${JSON.stringify(out)}); });\n`,
  );
  rmSync(out, { force: true });
  const proxy = await spawnProxy(t, process.execPath, [...extraArgs, '--require', preload, bundle], { cwd: dir, env: cleanEnv({ LOG_LEVEL: 'info' }) });
  await sleep(2500);
  proxy.child.kill('SIGUSR2');
  await waitFor(() => existsSync(out), 5_000, 'the heap figures');
  proxy.child.kill('SIGTERM');
  assert.equal((await proxy.exited).code, 0);
  return Number(readFileSync(out, 'utf8'));
}

test('a fresh server has given its start-up semi-space back 2.5 s after it listened; an operator-set reducer delay is left alone', async (t) => {
  const dir = await tempDir(t, 'm3u-startup-');
  const bundle = join(dir, 'main.cjs');
  await bundleServer(bundle, false);
  const settled = await newSpaceAfterStart(t, dir, bundle, []);
  const untouched = await newSpaceAfterStart(t, dir, bundle, ['--gc-memory-reducer-start-delay-ms=8000']);
  assert.ok(untouched >= 2 * MB, `V8 left alone keeps both semi-spaces: ${untouched} bytes`);
  assert.ok(settled <= untouched - 0.5 * MB, `new space ${settled} bytes after start-up (${untouched} with V8's own delay)`);
});
