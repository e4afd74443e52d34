// services/state/file-store.ts and keeper.ts on a real temporary directory: atomic replace, the .bak beside it,
// permissions, strict load, and a keeper that restores through the API validators and writes back what it read.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { MemoryRegistry, type StreamInput } from '../../src/core/registry.ts';
import { emptySnapshot, type StateSnapshot } from '../../src/core/state/state-file.ts';
import { StateError } from '../../src/errors.ts';
import { parseWebhookInput } from '../../src/http/routes/webhooks.ts';
import { parseStreamInput } from '../../src/http/validate.ts';
import { silentLogger } from '../../src/log.ts';
import type { WebhookTarget } from '../../src/services/events/webhook-queue.ts';
import { createFileStateStore } from '../../src/services/state/file-store.ts';
import { createStateKeeper } from '../../src/services/state/keeper.ts';
import { createMemoryStateStore } from '../../src/services/state/store.ts';
import { streamIdFor } from '../../src/services/streams.ts';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'm3u-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function snapshotWith(urls: string[]): StateSnapshot {
  const s = emptySnapshot();
  for (const url of urls) s.streams.push({ id: streamIdFor(url), definition: { url }, currentIndex: 0, createdAt: 0, extra: {} });
  return s;
}

test('save creates the directory (0700) and a 0600 file; load reads it back; no file is no state', async (t) => {
  const dir = await tempDir(t);
  const store = createFileStateStore(join(dir, 'nested', 'state.json'));
  assert.equal(await store.load(), undefined);
  await store.save(snapshotWith(['http://a/1.ts']));
  assert.equal((await stat(join(dir, 'nested'))).mode & 0o777, 0o700);
  assert.equal((await stat(store.where)).mode & 0o777, 0o600);
  assert.deepEqual((await store.load())?.streams.map((s) => s.definition['url']), ['http://a/1.ts']);
});

test('each save keeps the version it replaces as .bak and leaves no temporary file', async (t) => {
  const dir = await tempDir(t);
  const store = createFileStateStore(join(dir, 'state.json'));
  await store.save(snapshotWith(['http://a/1.ts']));
  await store.save(snapshotWith(['http://a/1.ts', 'http://a/2.ts']));
  assert.deepEqual((await readdir(dir)).sort(), ['state.json', 'state.json.bak']);
  const bak = createFileStateStore(join(dir, 'state.json.bak'));
  assert.equal((await bak.load())?.streams.length, 1);
  assert.equal((await store.load())?.streams.length, 2);
});

test('a corrupt file is refused with STATE_CORRUPT naming the .bak, and stays byte for byte', async (t) => {
  const dir = await tempDir(t);
  const store = createFileStateStore(join(dir, 'state.json'));
  await store.save(snapshotWith(['http://a/1.ts']));
  await store.save(snapshotWith(['http://a/2.ts']));
  const torn = (await readFile(store.where)).subarray(0, 40);
  await writeFile(store.where, torn);
  await assert.rejects(store.load(), (err: unknown) => err instanceof StateError && err.code === 'STATE_CORRUPT' && err.message.includes('state.json.bak'));
  assert.deepEqual(await readFile(store.where), torn);
});

test('a failed save leaves the previous file in place', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'file'), 'x');
  const blocked = createFileStateStore(join(dir, 'file', 'state.json'));
  await assert.rejects(blocked.save(emptySnapshot()), /ENOTDIR|EEXIST/);
  const store = createFileStateStore(join(dir, 'state.json'));
  await store.save(snapshotWith(['http://a/1.ts']));
  const before = await readFile(store.where);
  // A directory where the temporary file should go: the write fails before the rename.
  await mkdir(`${store.where}.tmp`);
  await assert.rejects(store.save(snapshotWith(['http://a/9.ts'])), /EISDIR/);
  assert.deepEqual(await readFile(store.where), before);
});

function keeperFixture(loaded?: StateSnapshot) {
  const registry = new MemoryRegistry();
  const store = createMemoryStateStore(loaded);
  const hooks: WebhookTarget[] = [];
  const keeper = createStateKeeper({ store, registry, webhookTargets: () => hooks, urlSecret: undefined, logger: silentLogger });
  const targets = {
    parseStream: parseStreamInput,
    restoreStream: (id: string, input: StreamInput, saved: { currentIndex: number; createdAt: number }) => registry.restoreStream(id, input, saved),
    parseWebhook: parseWebhookInput,
    addWebhook: (w: WebhookTarget) => void hooks.push(w),
  };
  return { registry, store, keeper, targets, hooks };
}

test('restore puts streams back with their position and creation time, through the API validator', async () => {
  const url = 'http://a/live.ts';
  const loaded = emptySnapshot();
  loaded.streams.push({ id: streamIdFor(url), definition: { url, failover_urls: ['http://b/live.ts'], metadata: { id: '3' }, later_field: 1 }, currentIndex: 1, createdAt: 1234, extra: { note: 'x' } });
  loaded.webhooks.push({ definition: { url: 'http://h/x', events: ['stream_stopped'] } });
  const f = keeperFixture();
  assert.deepEqual(f.keeper.restore(loaded, f.targets), { streams: 1, webhooks: 1 });
  const s = f.registry.getStream(streamIdFor(url));
  assert.equal(s?.currentIndex, 1);
  assert.equal(s?.createdAt, 1234);
  assert.equal(f.registry.clientCount(), 0);
  assert.equal(f.hooks[0]?.url, 'http://h/x');
  assert.equal(f.store.saves, 0, 'restoring is not a change');
  // The next write carries the unknown fields back out.
  await f.keeper.saveNow();
  const saved = f.store.last?.streams[0];
  assert.equal(saved?.definition['later_field'], 1);
  assert.deepEqual(saved?.extra, { note: 'x' });
});

test('restore refuses an entry the API would refuse, or whose id is not the MD5 of its url', () => {
  const bad = emptySnapshot();
  bad.streams.push({ id: streamIdFor('ftp://x/a'), definition: { url: 'ftp://x/a' }, currentIndex: 0, createdAt: 0, extra: {} });
  const f = keeperFixture();
  assert.throws(() => f.keeper.restore(bad, f.targets), (err: unknown) => err instanceof StateError && err.code === 'STATE_CORRUPT' && /streams\[0\]\.definition/.test(err.message));
  const wrongId = snapshotWith(['http://a/1.ts']);
  wrongId.streams[0]!.id = streamIdFor('http://other/');
  assert.throws(() => keeperFixture().keeper.restore(wrongId, keeperFixture().targets), /streams\[0\]\.id/);
});

test('saveNow turns a write failure into STATE_UNWRITABLE', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'file'), 'x');
  const keeper = createStateKeeper({
    store: createFileStateStore(join(dir, 'file', 'state.json')),
    registry: new MemoryRegistry(),
    webhookTargets: () => [],
    urlSecret: undefined,
    logger: silentLogger,
  });
  await assert.rejects(keeper.saveNow(), (err: unknown) => err instanceof StateError && err.code === 'STATE_UNWRITABLE');
});
