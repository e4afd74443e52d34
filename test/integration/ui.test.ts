// Issue 26 GET /ui: a self-contained HTML page behind the API token, with relative URLs only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, startProxy } from '../helpers/start-proxy.ts';

const TOKEN = 'ui-token';

test('/ui is a management route: 401 without the token, 403 with a wrong one, 200 with ?api_token=', async (t) => {
  const { base } = await startProxy(t, { apiToken: TOKEN });
  assert.equal((await api(base, 'GET', '/ui')).status, 401);
  assert.equal((await api(base, 'GET', '/ui', undefined, { 'x-api-token': 'nope' })).status, 403);
  const res = await fetch(`${base}/ui?api_token=${TOKEN}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  const html = await res.text();
  assert.match(html, /^<!doctype html>/);
  assert.doesNotMatch(html, /https?:\/\//, 'no absolute URL (no CDN, works behind a prefix)');
  assert.doesNotMatch(html, /['"]\/(streams|stats|ui)/, 'API paths are relative, not rooted');
  assert.match(html, /api_token/, 'the page carries the token on its own calls');
});

test('/ui without a token configured is served openly', async (t) => {
  const { base } = await startProxy(t);
  const res = await fetch(`${base}/ui`);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /m3u-proxy streams/);
});

test("the page's actions, sent as the page sends them (query token, no body), pass the security checks", async (t) => {
  const { base } = await startProxy(t, { apiToken: TOKEN });
  const created = await api(base, 'POST', '/streams', { url: 'http://127.0.0.1:9/a.ts', failover_urls: ['http://127.0.0.1:9/b.ts'] }, { 'x-api-token': TOKEN });
  assert.ok(created.status < 300, `create: ${created.status}`);
  const id = (created.body as { stream_id: string }).stream_id;
  const failover = await fetch(`${base}/streams/${id}/failover?api_token=${TOKEN}`, { method: 'POST' });
  await failover.text();
  assert.ok(failover.status < 300, `failover: ${failover.status}`);
  const del = await fetch(`${base}/streams/${id}?api_token=${TOKEN}`, { method: 'DELETE' });
  await del.text();
  assert.ok(del.status < 300, `delete: ${del.status}`);
});
