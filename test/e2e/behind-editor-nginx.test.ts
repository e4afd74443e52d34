// Issue 9 item 5, SPEC §2: the proxy behind m3u-editor's nginx, which strips the /m3u-proxy prefix of player links
// and adds X-Forwarded-*. With no PUBLIC_URL and no ROOT_PATH, ffmpeg plays a master+variant HLS stream, a
// continuous /stream and a /stream that redirects to HLS, all through nginx; the API answers without the prefix.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { playCleanly, probeStreamTypes, requireFfmpeg, runOk } from '../helpers/ffmpeg.ts';
import { encodeHls, fileRoutes } from '../helpers/hls-fixtures.ts';
import { requireNginx, startEditorNginx } from '../helpers/nginx.ts';
import { startOrigin } from '../helpers/origin.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';

const TOKEN = 'editor-token';
const AUTH = { 'x-api-token': TOKEN, accept: 'application/json' };

const MASTER = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=600000,RESOLUTION=320x240\nv0/index.m3u8\n';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'm3u-proxy-e2e-nginx-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('behind the editor’s prefix-stripping nginx: HLS, /stream and the /stream → HLS redirect play; the API needs no prefix', async (t) => {
  if (!(await requireFfmpeg(t))) return;
  const nginxBinary = requireNginx(t);
  if (nginxBinary === undefined) return;
  const dir = tempDir(t);
  await encodeHls(t, join(dir, 'v0'), { seconds: 3 });
  writeFileSync(join(dir, 'master.m3u8'), MASTER);
  const ts = join(dir, 'clip.ts');
  await runOk(t, 'ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=duration=2:size=320x240:rate=25', '-c:v', 'mpeg2video', '-f', 'mpegts', ts]);
  const routes = fileRoutes(dir, '/vod');
  // A playlist behind an extension-less URL, played as /stream/{id}: answered by a redirect to the HLS route.
  routes['/vod/live'] = { ...(routes['/vod/master.m3u8'] ?? assert.fail('no master')), contentType: 'application/x-mpegURL' } as (typeof routes)[string];
  const origin = await startOrigin(t, routes);
  // As in the editor's compose file: a token, no ROOT_PATH, no PUBLIC_URL, TRUST_PROXY at its default.
  const proxy = await startProxy(t, { apiToken: TOKEN, trustProxy: 'private' });
  const nginx = await startEditorNginx(t, nginxBinary, proxy.port);

  // The editor's API calls go straight to the proxy, without the prefix.
  const direct = `http://127.0.0.1:${proxy.port}`;
  const create = async (url: string): Promise<{ stream_id: string; stream_endpoint: string }> => {
    const r = await api(direct, 'POST', '/streams', { url }, AUTH);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as { stream_id: string; stream_endpoint: string };
  };
  const health = await api(direct, 'GET', `/health?api_token=${TOKEN}`);
  assert.equal(health.status, 200, 'the compose health check (curl -f .../health?api_token=...) passes');
  const hls = await create(origin.url('/vod/master.m3u8'));
  const continuous = await create(origin.url('/vod/clip.ts'));
  const redirected = await create(origin.url('/vod/live'));

  // Players get the editor's links: nginx base + /m3u-proxy + the endpoint.
  const master = `${nginx.base}/hls/${hls.stream_id}/playlist.m3u8`;
  await playCleanly(t, master);
  assert.ok((await probeStreamTypes(t, master)).includes('video'));
  await playCleanly(t, `${nginx.base}/stream/${continuous.stream_id}`);
  await playCleanly(t, `${nginx.base}/stream/${redirected.stream_id}`);

  // The redirect and every URI stay below /m3u-proxy/ when resolved the way a player resolves them.
  const answer = await fetch(`${nginx.base}/stream/${redirected.stream_id}`, { redirect: 'manual' });
  assert.equal(answer.status, 302);
  await answer.arrayBuffer();
  const target = new URL(answer.headers.get('location') ?? '', answer.url);
  assert.equal(target.pathname, `/m3u-proxy/hls/${redirected.stream_id}/playlist.m3u8`);
  const text = await (await fetch(master, { headers: { 'x-forwarded-for': '203.0.113.50' } })).text();
  const variant = text.split('\n').find((l) => l !== '' && !l.startsWith('#')) ?? '';
  assert.match(new URL(variant, master).pathname, new RegExp(`^/m3u-proxy/hls/${hls.stream_id}/p/[A-Za-z0-9_-]+\\.m3u8$`));

  // Viewers behind nginx are told apart by X-Forwarded-For (TRUST_PROXY=private: nginx is on loopback).
  const clients = (await api(direct, 'GET', '/clients', undefined, AUTH)).body as { clients: { ip_address: string }[] };
  assert.ok(clients.clients.some((c) => c.ip_address === '203.0.113.50'), JSON.stringify(clients.clients));
  // Through nginx, the API answers too (prefix stripped), and the token still guards it.
  assert.equal((await api(nginx.base, 'GET', '/streams', undefined, AUTH)).status, 200);
  assert.equal((await api(nginx.base, 'GET', '/streams')).status, 401);
});
