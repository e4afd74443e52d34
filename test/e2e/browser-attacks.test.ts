// Issue 13, SPEC §4 "Browsers", in a real browser: headless Chromium loads a page from another local port (another
// origin) whose script attacks an unauthenticated proxy the way a hostile web page would: read GET /streams, a
// preflighted JSON POST, and a text/plain POST (which browsers send without a preflight). All three must fail. The
// same page then does what hls.js does to play (cross-origin fetch of the master, a variant and a segment), which
// must work. hls.js itself is not used: this project installs no dependencies, so the page performs those fetches.
// DNS rebinding is shown by Chromium resolving an attacker's name to the proxy and sending that Host.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dumpDom, requireChromium, startPageServer } from '../helpers/chromium.ts';
import { startOrigin } from '../helpers/origin.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';

/** The attack page; it reports its results back and its load event waits for that (an <img> held by the server). */
function attackPage(proxy: string, master: string): string {
  return `<!doctype html><html><body><pre id="results">pending</pre><script>
const proxy = ${JSON.stringify(proxy)};
const body = JSON.stringify({ url: 'http://169.254.169.254/latest.ts' });
const outcome = (p) => p.then((r) => 'answered ' + r.status + ' ' + r.type, (e) => 'blocked ' + e.name);
async function play() {
  // What hls.js does: the master, its first variant, that variant's first segment, each a cross-origin fetch.
  const first = (text) => text.split('\\n').map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('#'));
  const m = await fetch(${JSON.stringify(master)});
  const variantUrl = new URL(first(await m.text()), m.url).href;
  const v = await fetch(variantUrl);
  const segmentUrl = new URL(first(await v.text()), v.url).href;
  const s = await fetch(segmentUrl);
  return 'played ' + m.status + ' ' + v.status + ' ' + s.status + ' ' + (await s.arrayBuffer()).byteLength;
}
(async () => {
  const results = {
    read: await outcome(fetch(proxy + '/streams')),
    preflighted: await outcome(fetch(proxy + '/streams', { method: 'POST', headers: { 'content-type': 'application/json' }, body })),
    simple: await outcome(fetch(proxy + '/streams', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body })),
    playback: await play().catch((e) => 'failed ' + e.name + ' ' + e.message),
  };
  document.getElementById('results').textContent = JSON.stringify(results);
  await fetch('/report', { method: 'POST', body: JSON.stringify(results) });
})();
</script><img src="/wait" alt=""></body></html>`;
}

test('§4 in headless Chromium a foreign page cannot read or drive the API, and can still play HLS from the proxy', async (t) => {
  const binary = requireChromium(t);
  if (binary === undefined) return;
  const segment = Buffer.alloc(188 * 20, 0x47);
  const origin = await startOrigin(t, {
    '/live/master.m3u8': { kind: 'file', body: Buffer.from('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nlow/index.m3u8\n'), contentType: 'application/vnd.apple.mpegurl' },
    '/live/low/index.m3u8': { kind: 'file', body: Buffer.from('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg0.ts\n'), contentType: 'application/vnd.apple.mpegurl' },
    '/live/low/seg0.ts': { kind: 'file', body: segment, contentType: 'video/mp2t' },
  });
  // No API_TOKEN: the LAN default this issue is about.
  const proxy = await startProxy(t);
  const created = await api(proxy.base, 'POST', '/streams', { url: origin.url('/live/master.m3u8') });
  assert.equal(created.status, 200);
  const master = proxy.base + (created.body as { stream_endpoint: string }).stream_endpoint;
  const attacker = await startPageServer(t, () => attackPage(proxy.base, master));

  const dom = await dumpDom(t, binary, `http://127.0.0.1:${attacker.port}/`);
  const shown = /<pre id="results">([^<]*)<\/pre>/.exec(dom)?.[1] ?? '';
  assert.notEqual(shown, 'pending', `the page never finished:\n${dom}`);
  const results = JSON.parse(shown.replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as Record<string, string>;
  assert.equal(results['read'], 'blocked TypeError', 'the page cannot read GET /streams (no CORS header)');
  assert.equal(results['preflighted'], 'blocked TypeError', 'the preflight of a JSON POST is refused');
  // A no-cors POST is sent (the page only sees an opaque answer): the proxy must have refused it (415).
  assert.equal(results['simple'], 'answered 0 opaque');
  const streams = [...proxy.app.registry.streams()].map((s) => s.url);
  assert.deepEqual(streams, [origin.url('/live/master.m3u8')], 'the text/plain POST created no stream');
  assert.equal(results['playback'], `played 200 200 200 ${segment.length}`, 'hls.js-style playback works cross-origin');
  assert.equal(attacker.reported(), shown.replace(/&quot;/g, '"').replace(/&amp;/g, '&'));
});

test('§4 in headless Chromium a DNS-rebinding name reaching the proxy gets 403, not the API', async (t) => {
  const binary = requireChromium(t);
  if (binary === undefined) return;
  const proxy = await startProxy(t);
  // What rebinding achieves: the attacker's name now resolves to the proxy, so its page is same-origin with it and
  // every request carries Host: rebind.attacker.example. Chromium's resolver rule stands in for the attacker's DNS.
  const rule = '--host-resolver-rules=MAP rebind.attacker.example 127.0.0.1';
  const dom = await dumpDom(t, binary, `http://rebind.attacker.example:${proxy.port}/streams`, [rule]);
  assert.match(dom, /FORBIDDEN_HOST/);
  assert.match(dom, /ALLOWED_HOSTS/);
  assert.doesNotMatch(dom, /"streams"\s*:/);
  // The same browser on the proxy's IP is served: the check is on the name, not the browser.
  const ok = await dumpDom(t, binary, `http://127.0.0.1:${proxy.port}/streams`);
  assert.match(ok, /"streams"\s*:/);
});
