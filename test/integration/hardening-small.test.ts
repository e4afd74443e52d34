// Issue 14 item 7, against the real server: secrets in percent-encoded query names stay out of the logs, a trickling
// playlist origin gets a total deadline, a /stream origin that answers but sends nothing is not reconnected forever,
// a 422 does not echo a huge field name, and a body mislabelled with an encoding is relayed, not refused.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import { startOrigin, waitFor } from '../helpers/origin.ts';
import { openPlayer } from '../helpers/player.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';
import { createLogger } from '../../src/log.ts';

test('issue 14: api%5Ftoken and ?url= values are never logged in clear, at any level', async (t) => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', format: 'text', write: (l) => lines.push(l) });
  const origin = await startOrigin(t, { '/a.ts': { kind: 'status', status: 404 } });
  const proxy = await startProxy(t, { apiToken: 'T0PSECRET', maxRetries: 1 }, logger);
  const created = await api(proxy.base, 'POST', '/streams', { url: origin.url('/a.ts') }, { 'x-api-token': 'T0PSECRET' });
  assert.equal(created.status, 200);
  const id = (created.body as { stream_id: string }).stream_id;
  const provider = encodeURIComponent(origin.url('/a.ts?user=PROVIDERUSER&pass=PROVIDERPASS'));

  // Accepted with the encoded name (the server decodes it), and the ?url= form with it.
  const ok = await api(proxy.base, 'GET', `/streams?api%5Ftoken=T0PSECRET`);
  assert.equal(ok.status, 200);
  const viaUrl = await api(proxy.base, 'GET', `/stream/${id}?%61pi_token=T0PSECRET&%75rl=${provider}`);
  assert.equal(viaUrl.status, 502);
  // A wrong token is logged (403) without its value too.
  const wrong = await api(proxy.base, 'GET', `/stats?api%5ftoken=WRONGSECRET`);
  assert.equal(wrong.status, 403);
  const hls = await api(proxy.base, 'GET', `/hls/${id}/playlist.m3u8?url=${provider}&api_token=T0PSECRET`);
  assert.equal(hls.status, 502);

  const log = lines.join('');
  assert.match(log, /request/, 'debug request lines were written');
  for (const secret of ['T0PSECRET', 'WRONGSECRET', 'PROVIDERUSER', 'PROVIDERPASS']) {
    assert.ok(!log.includes(secret), `${secret} leaked into the log:\n${log}`);
  }
});

test('issue 14: a playlist origin that trickles a byte at a time gets a 504 JSON at the total deadline', { timeout: 20_000 }, async (t) => {
  // 1 byte every 20 ms: always "progress" for the idle watch, yet the body would take minutes.
  const body = Buffer.from('#EXTM3U\n' + '#EXT-X-TARGETDURATION:6\n'.repeat(1000));
  const origin = await startOrigin(t, {
    '/slow.m3u8': { kind: 'file', body, contentType: 'application/vnd.apple.mpegurl', chunkBytes: 1, trickleMs: 20 },
  });
  const proxy = await startProxy(t, { connectTimeoutMs: 300, readTimeoutMs: 300 });
  const created = await api(proxy.base, 'POST', '/streams', { url: origin.url('/slow.m3u8') });
  const endpoint = (created.body as { stream_endpoint: string }).stream_endpoint;
  const r = await api(proxy.base, 'GET', endpoint);
  assert.equal(r.status, 504);
  assert.equal((r.body as { code: string }).code, 'UPSTREAM_TIMEOUT');
  // The trickling upstream request is given up, not left reading.
  await origin.lastRequest('/slow.m3u8').socketClosed;
});

test('issue 14: a /stream origin that answers and then sends nothing is given up after DEFAULT_MAX_RETRIES rounds', { timeout: 20_000 }, async (t) => {
  // Every answer: headers, then silence. Before the fix the session reconnected forever.
  const origin = await startOrigin(t, {
    '/stall.ts': {
      kind: 'handler',
      handle(_req, res) {
        res.writeHead(200, { 'content-type': 'video/mp2t' });
        res.flushHeaders();
      },
    },
  });
  const proxy = await startProxy(t, { readTimeoutMs: 100, maxRetries: 2 });
  const created = await api(proxy.base, 'POST', '/streams', { url: origin.url('/stall.ts') });
  const endpoint = (created.body as { stream_endpoint: string }).stream_endpoint;

  const ended = new Promise<{ status: number; bytes: number; how: string }>((resolve, reject) => {
    const req = request(proxy.base + endpoint, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, bytes, how: 'end' }));
      res.once('error', () => resolve({ status: res.statusCode ?? 0, bytes, how: 'cut' }));
    });
    // The proxy's headers were queued but never flushed (no byte came): the player may see only the connection end.
    req.once('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? resolve({ status: 0, bytes: 0, how: 'hangup' }) : reject(err)));
    t.after(() => req.destroy());
    req.end();
  });
  const result = await ended;
  assert.ok(result.status === 200 || result.how === 'hangup', JSON.stringify(result));
  assert.equal(result.bytes, 0);
  // Two rounds over a one-URL ring: the first answer and one reconnect, then the player is let go.
  assert.equal(origin.hits('/stall.ts').length, 2);
  await waitFor(() => proxy.app.registry.clientCount() === 0, 2_000, 'the session to end');
  await waitFor(() => origin.openSockets === 0, 2_000, 'the stalled upstream sockets to close');
});

test('issue 14: a 422 echoes at most a short prefix of a huge field name', async (t) => {
  const proxy = await startProxy(t);
  const huge = 'H'.repeat(900 * 1024);
  const cases: unknown[] = [
    { url: 'http://127.0.0.1:9/a.ts', headers: { [huge + ':']: 'v' } },
    { url: 'http://127.0.0.1:9/a.ts', headers: { [huge]: 42 } },
    { url: 'http://127.0.0.1:9/a.ts', metadata: { [huge]: { nested: true } } },
  ];
  for (const body of cases) {
    const r = await api(proxy.base, 'POST', '/streams', body);
    assert.equal(r.status, 422);
    const detail = (r.body as { detail: string }).detail;
    assert.ok(detail.length < 300, `detail is ${detail.length} chars`);
    assert.match(detail, /chars\)/, 'says that the name was cut');
  }
  const hook = await api(proxy.base, 'POST', '/webhooks', { url: 'http://127.0.0.1:9/h', headers: { [huge + ' ']: 'v' } });
  assert.equal(hook.status, 422);
  assert.ok((hook.body as { detail: string }).detail.length < 300);
  const client = await api(proxy.base, 'GET', `/clients/${'C'.repeat(8000)}`);
  assert.equal(client.status, 404);
  assert.ok((client.body as { detail: string }).detail.length < 700);
});

test('a body labelled with an encoding it does not have (br on raw TS) is relayed as it came, not a 500', async (t) => {
  const packet = Buffer.concat([Buffer.from([0x47, 0x40, 0x00, 0x10]), Buffer.alloc(184, 0xa5)]);
  const origin = await startOrigin(t, {
    '/br.ts': {
      kind: 'handler',
      handle(_req, res) {
        // Headers first, the body after: the sniff reads it through its decoder, which cannot decode it.
        res.writeHead(200, { 'content-type': 'video/mp2t', 'content-encoding': 'br' });
        res.flushHeaders();
        const timer = setInterval(() => res.write(packet), 50);
        res.once('close', () => clearInterval(timer));
      },
    },
  });
  const proxy = await startProxy(t);
  const created = await api(proxy.base, 'POST', '/streams', { url: origin.url('/br.ts') });
  const player = await openPlayer(t, proxy.base + (created.body as { stream_endpoint: string }).stream_endpoint);
  assert.equal(player.res.statusCode, 200);
  assert.equal(player.res.headers['content-encoding'], 'br', 'passed through unchanged, label and all');
  await player.waitBytes(188 * 4);
  assert.equal(player.body().subarray(0, 188).equals(packet), true);
});

test('garbage sent after a request whose live answer is streaming ends the connection; no 400 lands inside the body', async (t) => {
  const origin = await startOrigin(t, { '/live.ts': { kind: 'live', fill: 0x47 } });
  const proxy = await startProxy(t);
  const created = await api(proxy.base, 'POST', '/streams', { url: origin.url('/live.ts') });
  const socket = connect(proxy.port, '127.0.0.1');
  t.after(() => socket.destroy());
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  socket.write(`GET ${(created.body as { stream_endpoint: string }).stream_endpoint} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  await waitFor(() => received.length > 5_000, 5_000, 'the stream is flowing');
  socket.write('\x01\x02 not http\r\n\r\n');
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  assert.equal(received.startsWith('HTTP/1.1 200'), true);
  assert.equal(received.includes('HTTP/1.1 400'), false, 'a second status line inside the body');
});
