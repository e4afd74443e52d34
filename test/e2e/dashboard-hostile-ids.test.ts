// The dashboard in headless Chromium when a player names itself after a property every object has: `client_id`
// comes from the playback URL, which needs no token. Keyed in plain objects, `__proto__` found a built-in there
// and every render threw from then on: the page froze for everybody. It must go on showing every stream.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { launchChromium, type CdpParams } from '../helpers/cdp.ts';
import { requireChromium } from '../helpers/chromium.ts';
import { startOrigin } from '../helpers/origin.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';

const MPEGURL = 'application/vnd.apple.mpegurl';

test('client ids __proto__, constructor and toString: the dashboard renders every stream, with no exception', async (t) => {
  const binary = requireChromium(t);
  if (binary === undefined) return;
  const media = Buffer.from('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg1.ts\n');
  const origin = await startOrigin(t, { '/a.m3u8': { kind: 'file', body: media, contentType: MPEGURL }, '/b.m3u8': { kind: 'file', body: media, contentType: MPEGURL } });
  const proxy = await startProxy(t);
  const a = (await api(proxy.base, 'POST', '/streams', { url: origin.url('/a.m3u8') })).body as { stream_id: string };
  const b = (await api(proxy.base, 'POST', '/streams', { url: origin.url('/b.m3u8') })).body as { stream_id: string };
  for (const id of ['__proto__', 'constructor', 'toString']) {
    const r = await fetch(`${proxy.base}/hls/${a.stream_id}/playlist.m3u8?client_id=${id}`);
    assert.equal(r.status, 200);
    await r.text();
  }
  const browser = await launchChromium(t, binary);
  const page = await browser.openPage();
  const exceptions: CdpParams[] = [];
  page.on('Runtime.exceptionThrown', (p) => exceptions.push(p));
  await page.send('Page.enable');
  await page.send('Runtime.enable');
  const loaded = page.waitForEvent('Page.loadEventFired');
  await page.send('Page.navigate', { url: `${proxy.base}/ui` });
  await loaded;
  const deadline = performance.now() + 15_000;
  const both = `!!document.querySelector('[data-stream-id="${a.stream_id}"]') && !!document.querySelector('[data-stream-id="${b.stream_id}"]')`;
  while (!(await page.evaluate<boolean>(both))) {
    assert.ok(performance.now() < deadline, `both streams on the page; exceptions: ${JSON.stringify(exceptions).slice(0, 300)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const clients = await page.evaluate<number>(`document.querySelectorAll('[data-stream-id="${a.stream_id}"] [data-role="client-list"] li').length`);
  assert.equal(clients, 3, 'each hostile id listed as a client');
  assert.deepEqual(exceptions, []);
});
