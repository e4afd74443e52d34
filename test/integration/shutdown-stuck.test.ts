// SPEC §15 against the real process: SIGTERM ends it whatever is stuck in flight, and a second signal ends it at once.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { spawnProxy, waitUntilRefused, type SpawnedProxy } from '../helpers/spawn-proxy.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A proxy with one HLS segment in flight that never completes (the origin stalls) to a player that never reads. */
async function stuckSegment(t: TestContext): Promise<SpawnedProxy> {
  let segmentAsked!: () => void;
  const inFlight = new Promise<void>((resolve) => (segmentAsked = resolve));
  const origin = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/live.m3u8') {
      res.setHeader('content-type', 'application/vnd.apple.mpegurl');
      res.end('#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1\n#EXTINF:2.0,\nseg1.ts\n');
      return;
    }
    // Headers and a first chunk, then nothing: the rest never comes.
    res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': String(1 << 20) });
    res.write(Buffer.alloc(64 * 1024, 0x47));
    segmentAsked();
  });
  t.after(() => {
    origin.closeAllConnections();
    origin.close();
  });
  origin.listen(0, '127.0.0.1');
  await once(origin, 'listening');
  const addr = origin.address();
  assert.ok(addr && typeof addr === 'object');

  const proxy = await spawnProxy(t, process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'main.ts')], { cwd: ROOT });
  const created = await fetch(`${proxy.base}/streams`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: `http://127.0.0.1:${addr.port}/live.m3u8` }),
  });
  assert.equal(created.status, 200);
  const { playlist_url: playlistUrl } = (await created.json()) as { playlist_url: string };
  const playlist = await fetch(proxy.base + playlistUrl);
  const segmentLine = (await playlist.text()).split('\n').find((l) => l !== '' && !l.startsWith('#'));
  assert.ok(segmentLine, 'the rewritten playlist lists the segment');
  const segmentUrl = new URL(segmentLine, proxy.base + playlistUrl);

  // A raw socket that asks and never reads a byte.
  const socket = connect(proxy.port, '127.0.0.1');
  t.after(() => socket.destroy());
  socket.on('error', () => undefined); // the proxy ends it when it exits: expected
  await once(socket, 'connect');
  socket.pause();
  socket.write(`GET ${segmentUrl.pathname}${segmentUrl.search} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  // Only once the proxy is fetching the segment is it in flight: a request not yet parsed is an idle socket, which
  // the shutdown closes at once (and the second signal would then come after a clean exit).
  await inFlight;
  return proxy;
}

test('§15 SIGTERM with a segment stuck in flight to a player that never reads: the process still exits', { timeout: 60_000 }, async (t) => {
  const proxy = await stuckSegment(t);
  proxy.child.kill('SIGTERM');
  await waitUntilRefused(proxy.port);
  const { signal } = await proxy.exited;
  assert.equal(signal, null, 'it exited on its own, not killed by the test');
});

test('§15 a second signal ends the process at once', { timeout: 60_000 }, async (t) => {
  const proxy = await stuckSegment(t);
  proxy.child.kill('SIGTERM');
  await waitUntilRefused(proxy.port);
  proxy.child.kill('SIGTERM');
  const { code, signal } = await proxy.exited;
  assert.deepEqual({ code, signal }, { code: 1, signal: null });
  assert.match(proxy.log(), /second signal/);
});
