// SPEC §12 in process, with a memory store: what each management call saves, what a failed save answers, and that
// the sweeper's removals are saved while a shutdown's are not.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { createApp, type App } from '../../src/app.ts';
import type { StateSnapshot } from '../../src/core/state/state-file.ts';
import { silentLogger } from '../../src/log.ts';
import { createMemoryStateStore } from '../../src/services/state/store.ts';
import { api, testConfig } from '../helpers/start-proxy.ts';

async function startWithStore(t: TestContext, loaded?: StateSnapshot, now?: () => number) {
  const store = createMemoryStateStore(loaded);
  let failing = false;
  const save = store.save.bind(store);
  store.save = async (s) => {
    if (failing) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    await save(s);
  };
  const app: App = createApp(testConfig({ streamTimeoutMs: 1_000 }), { logger: silentLogger, state: { store, loaded: await store.load() }, ...(now ? { now } : {}) });
  t.after(() => app.close(100));
  const port = await app.listen(0, '127.0.0.1');
  return { app, store, base: `http://127.0.0.1:${port}`, fail: (on: boolean) => (failing = on) };
}

test('every management change is saved before its 2xx; reads save nothing', async (t) => {
  const p = await startWithStore(t);
  assert.equal(p.store.saves, 1, 'the start-up write');
  assert.ok(p.store.last?.urlSecret, 'the generated URL_SECRET is kept');
  const created = await api(p.base, 'POST', '/streams', { url: 'http://o.test/a.m3u8', failover_urls: ['http://o.test/b.m3u8'], metadata: { group: 'g' } });
  const id = (created.body as { stream_id: string }).stream_id;
  assert.deepEqual(p.store.last?.streams.map((s) => s.id), [id]);
  await api(p.base, 'POST', `/streams/${id}/failover`);
  assert.equal(p.store.last?.streams[0]?.currentIndex, 1);
  await api(p.base, 'POST', '/webhooks', { url: 'http://127.0.0.1:9/hook' });
  assert.equal(p.store.last?.webhooks[0]?.definition['url'], 'http://127.0.0.1:9/hook');
  const saves = p.store.saves;
  await api(p.base, 'GET', '/streams');
  await api(p.base, 'GET', '/webhooks');
  assert.equal(p.store.saves, saves, 'reads do not write');
  await api(p.base, 'DELETE', '/webhooks?webhook_url=' + encodeURIComponent('http://127.0.0.1:9/hook'));
  assert.deepEqual(p.store.last?.webhooks, []);
  await api(p.base, 'DELETE', '/streams/by-metadata?field=group&value=g');
  assert.deepEqual(p.store.last?.streams, []);
});

test('a failed save answers 500 STATE_WRITE_FAILED, never a 2xx; the next save carries the change', async (t) => {
  const p = await startWithStore(t);
  p.fail(true);
  const r = await api(p.base, 'POST', '/streams', { url: 'http://o.test/c.ts' });
  assert.equal(r.status, 500);
  assert.deepEqual(r.body, { detail: 'The change could not be saved to the state file; it would be lost on restart', code: 'STATE_WRITE_FAILED' });
  p.fail(false);
  const again = await api(p.base, 'POST', '/webhooks', { url: 'http://127.0.0.1:9/h2' });
  assert.equal(again.status, 200);
  assert.equal(p.store.last?.streams.length, 1, 'the stream created during the failure is saved with the next change');
});

test('the sweeper removal of an idle stream is saved; a shutdown keeps the streams in the state', async (t) => {
  let clock = 1_000_000;
  const p = await startWithStore(t, undefined, () => clock);
  await api(p.base, 'POST', '/streams', { url: 'http://o.test/idle.ts' });
  await api(p.base, 'POST', '/streams', { url: 'http://o.test/kept.ts' });
  assert.equal(p.store.last?.streams.length, 2);
  clock += 500;
  await api(p.base, 'POST', '/streams', { url: 'http://o.test/kept.ts' }); // touches it: only idle.ts is past the timeout
  clock += 600;
  assert.equal(p.app.sweeper.sweep().streams, 1);
  await p.app.streams.saved();
  assert.deepEqual(p.store.last?.streams.map((s) => s.definition['url']), ['http://o.test/kept.ts']);
  await p.app.close(100);
  assert.deepEqual(p.store.last?.streams.map((s) => s.definition['url']), ['http://o.test/kept.ts']);
});

test('started and stopped alternate across a restart: a running stream sends no second stream_started, a stopped one starts again', async (t) => {
  const first = await startWithStore(t);
  const created = async (base: string, url: string): Promise<string> => ((await api(base, 'POST', '/streams', { url })).body as { stream_id: string }).stream_id;
  const playing = await created(first.base, 'http://o.test/playing.m3u8');
  const idle = await created(first.base, 'http://o.test/idle.m3u8');
  const info = { userAgent: 'VLC/3.0', ip: '127.0.0.1', username: null };
  first.app.streams.touchHlsClient(first.app.streams.get(playing), 'viewer', info);
  // The idle stream's only viewer leaves: its stream_stopped is sent before the restart.
  const leaving = first.app.streams.touchHlsClient(first.app.streams.get(idle), 'gone', info);
  first.app.streams.endClient(leaving, 'closed');
  await first.app.streams.saved();
  const saved = first.store.last;
  assert.ok(saved);
  assert.deepEqual(Object.fromEntries(saved.streams.map((s) => [s.id, s.running])), { [playing]: true, [idle]: false });

  const second = await startWithStore(t, saved);
  const events: string[] = [];
  second.app.bus.subscribe((e) => events.push(`${e.event_type}:${e.stream_id === playing ? 'playing' : 'idle'}`));
  second.app.streams.touchHlsClient(second.app.streams.get(playing), 'viewer', info);
  second.app.streams.touchHlsClient(second.app.streams.get(idle), 'back', info);
  assert.deepEqual(events.filter((e) => e.startsWith('stream_')), ['stream_started:idle']);
});
