// SPEC §8 graceful shutdown of the real process: SIGTERM closes the listener, requests in flight finish, exit code 0.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, get, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { spawnProxy, waitUntilRefused } from '../helpers/spawn-proxy.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function startSource(t: TestContext) {
  return spawnProxy(t, process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'main.ts')], { cwd: ROOT });
}

test('§8 SIGTERM: a request in flight completes, new connections are refused, exit 0', async (t) => {
  const proxy = await startSource(t);
  const body = JSON.stringify({ url: 'http://origin.invalid/shutdown.m3u8' });
  const split = Math.floor(body.length / 2);

  // A management request whose body is still arriving when the signal comes.
  const socket = connect(proxy.port, '127.0.0.1');
  t.after(() => socket.destroy());
  await once(socket, 'connect');
  socket.write(
    `POST /streams HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
      body.slice(0, split),
  );
  let answer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (answer += chunk));
  const ended = once(socket, 'close');
  ended.catch(() => undefined); // awaited below; a reset shows as a missing answer there
  // "100 Continue" proves the server parsed the headers: before that the connection still counts as idle.
  while (!answer.includes('100 Continue')) await once(socket, 'data');
  answer = '';

  proxy.child.kill('SIGTERM');
  await waitUntilRefused(proxy.port);
  socket.write(body.slice(split));
  await ended;

  assert.match(answer, /^HTTP\/1\.1 200 /, 'the request in flight got its answer');
  assert.match(answer, /"stream_id":"[0-9a-f]{32}"/);
  assert.deepEqual(await proxy.exited, { code: 0, signal: null });
  assert.match(proxy.log(), /shutting down/);
});

test('§8 SIGTERM: an HLS segment in flight is delivered whole before the process exits 0', async (t) => {
  const half = Buffer.alloc(64 * 1024, 0x47);
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let segmentStarted!: () => void;
  const segmentRequested = new Promise<void>((resolve) => (segmentStarted = resolve));
  const origin = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/live.m3u8') {
      res.setHeader('content-type', 'application/vnd.apple.mpegurl');
      res.end('#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1\n#EXTINF:2.0,\nseg1.ts\n');
      return;
    }
    if (req.url === '/seg1.ts') {
      // Half now, the rest only once the test has seen the proxy stop listening.
      res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': String(half.length * 2) });
      res.write(half);
      segmentStarted();
      void released.then(() => res.end(half));
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  t.after(() => {
    release();
    origin.closeAllConnections();
    origin.close();
  });
  origin.listen(0, '127.0.0.1');
  await once(origin, 'listening');
  const addr = origin.address();
  assert.ok(addr && typeof addr === 'object');

  const proxy = await startSource(t);
  const created = await fetch(`${proxy.base}/streams`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: `http://127.0.0.1:${addr.port}/live.m3u8` }),
  });
  assert.equal(created.status, 200);
  const { playlist_url: playlistUrl } = (await created.json()) as { playlist_url: string };
  const playlist = await fetch(proxy.base + playlistUrl);
  assert.equal(playlist.status, 200);
  const segmentLine = (await playlist.text()).split('\n').find((l) => l !== '' && !l.startsWith('#'));
  assert.ok(segmentLine, 'the rewritten playlist lists the segment');
  const segmentUrl = new URL(segmentLine, proxy.base + playlistUrl);

  const response = await new Promise<IncomingMessage>((resolve, reject) => get(segmentUrl, resolve).once('error', reject));
  t.after(() => response.destroy());
  assert.equal(response.statusCode, 200);
  const chunks: Buffer[] = [];
  response.on('data', (c: Buffer) => chunks.push(c));
  const done = once(response, 'end');
  await segmentRequested;

  proxy.child.kill('SIGTERM');
  await waitUntilRefused(proxy.port);
  release();
  await done;

  assert.ok(Buffer.concat(chunks).equals(Buffer.concat([half, half])), 'the whole segment arrived');
  assert.deepEqual(await proxy.exited, { code: 0, signal: null });
});
