// Issue 24 item 5: an origin that sends its headers and then trickles its body must not hold back the player's
// response while the proxy sniffs "playlist or media": the sniff decides within a short deadline and serves. Judged
// by how many bytes the origin had sent when the player got its headers (1 byte per 100 ms), never by a duration:
// the old code waited for three TS packets or the 30 s read timeout, hundreds of bytes.
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { test, type TestContext } from 'node:test';
import { startOrigin, type Origin } from '../helpers/origin.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';

const TRICKLE_MS = 100;
/** The sniff deadline is 1 s, about 10 bytes at this pace; 60 leaves room for a slow machine. */
const MOST_BYTES_BEFORE_HEADERS = 60;

function tsBody(packets: number): Buffer {
  const body = Buffer.alloc(188 * packets, 0xff);
  for (let i = 0; i < packets; i++) body[i * 188] = 0x47;
  return body;
}

function get(t: TestContext, url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      t.after(() => res.destroy());
      resolve(res);
    });
    t.after(() => req.destroy());
    req.once('error', reject);
    req.end();
  });
}

async function firstByte(res: IncomingMessage): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    res.once('data', (c: Buffer) => resolve(c[0]));
    res.once('error', reject);
    res.once('end', () => resolve(undefined));
  });
}

async function trickler(t: TestContext, path: string, contentType: string): Promise<Origin> {
  return startOrigin(t, { [path]: { kind: 'file', body: tsBody(20), contentType, chunkBytes: 1, trickleMs: TRICKLE_MS } });
}

test('issue 24.5: /stream of a trickling TS origin answers after the sniff deadline, not after the read timeout', { timeout: 30_000 }, async (t) => {
  const origin = await trickler(t, '/live.ts', 'video/mp2t');
  const proxy = await startProxy(t, { readTimeoutMs: 30_000 });
  const created = await api(proxy.base, 'POST', '/streams', { url: origin.url('/live.ts') });
  const id = (created.body as { stream_id: string }).stream_id;
  const res = await get(t, `${proxy.base}/stream/${id}`);
  const sent = origin.lastRequest('/live.ts').bytesSent;
  assert.equal(res.statusCode, 200);
  assert.ok(sent <= MOST_BYTES_BEFORE_HEADERS, `the player waited for ${sent} trickled bytes before its headers`);
  assert.equal(await firstByte(res), 0x47, 'the body starts with the first byte the origin sent');
});

test('issue 24.5: a trickling TS body behind a playlist URL is served as media after the sniff deadline', { timeout: 30_000 }, async (t) => {
  // Labelled as a playlist: only the bytes can tell, and they arrive one by one.
  const origin = await trickler(t, '/live.m3u8', 'application/vnd.apple.mpegurl');
  const proxy = await startProxy(t, { readTimeoutMs: 30_000 });
  const created = await api(proxy.base, 'POST', '/streams', { url: origin.url('/live.m3u8') });
  const endpoint = (created.body as { stream_endpoint: string }).stream_endpoint;
  const res = await get(t, `${proxy.base}${endpoint}`);
  const sent = origin.lastRequest('/live.m3u8').bytesSent;
  assert.ok(res.statusCode === 200 || res.statusCode === 302, `status ${res.statusCode}`);
  assert.ok(sent <= MOST_BYTES_BEFORE_HEADERS, `the player waited for ${sent} trickled bytes before its headers`);
});
