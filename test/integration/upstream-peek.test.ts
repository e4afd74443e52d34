// core/upstream/peek.ts against real IncomingMessages: judging a body never loses a byte or its 'end', whether the body
// is empty, shorter than the peek, compressed, endless, or trickling.
import assert from 'node:assert/strict';
import { get, type IncomingMessage } from 'node:http';
import { test, type TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';
import { EventEmitter } from 'node:events';
import { isPlaylistBody, playlistBodyNow, sniffHeld, sniffResponse } from '../../src/core/upstream/peek.ts';
import { startOrigin } from '../helpers/origin.ts';

function open(t: TestContext, url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false }, (res) => {
      t.after(() => res.destroy());
      resolve(res);
    });
    req.once('error', reject);
  });
}

function readAll(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.once('end', () => resolve(Buffer.concat(chunks)));
    res.once('error', reject);
  });
}

test('a short complete body is judged and then read whole, with its end', async (t) => {
  const origin = await startOrigin(t, { '/a': { kind: 'file', body: Buffer.from('0123456789') } });
  const res = await open(t, origin.url('/a'));
  // Let the whole body arrive before judging: the case where 'end' could be emitted before anyone listens.
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(await sniffResponse(res, { timeoutMs: 2_000 }), 'unknown');
  assert.equal((await readAll(res)).toString(), '0123456789');
});

test('an empty body is judged without losing its end', async (t) => {
  const origin = await startOrigin(t, { '/e': { kind: 'file', body: Buffer.alloc(0) } });
  const res = await open(t, origin.url('/e'));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(await sniffResponse(res, { timeoutMs: 2_000 }), 'unknown');
  assert.equal((await readAll(res)).length, 0);
});

test('a gzipped playlist is judged from a decoded copy; the body stays compressed', async (t) => {
  const text = '# made by a panel\n\n#EXTM3U\n' + '#EXTINF:4,\nhttp://provider.example/a.ts?user=u&pass=p\n'.repeat(200);
  const gz = gzipSync(text);
  const origin = await startOrigin(t, { '/p': { kind: 'file', body: gz, contentType: 'application/octet-stream', headers: { 'content-encoding': 'gzip' } } });
  const res = await open(t, origin.url('/p'));
  assert.equal(await sniffResponse(res, { timeoutMs: 2_000 }), 'playlist');
  assert.deepEqual(await readAll(res), gz);
});

test('an endless TS stream is judged media from its first packets, and keeps flowing', async (t) => {
  const origin = await startOrigin(t, { '/live': { kind: 'live', contentType: 'application/vnd.apple.mpegurl' } });
  const res = await open(t, origin.url('/live'));
  assert.equal(await sniffResponse(res, { timeoutMs: 2_000 }), 'media');
  const first = await new Promise<Buffer>((resolve) => res.once('data', resolve));
  assert.equal(first[0], 0x47, 'the body starts at its first byte');
  assert.equal(first[188], 0x47);
});

test('an origin that sends headers and then nothing is judged when the wait ends', async (t) => {
  const origin = await startOrigin(t, {
    '/slow': {
      kind: 'handler',
      handle(_req, res) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('# a');
      },
    },
  });
  const res = await open(t, origin.url('/slow'));
  assert.equal(await sniffResponse(res, { timeoutMs: 50 }), 'unknown');
  const first = await new Promise<Buffer>((resolve) => res.once('data', resolve));
  assert.equal(first.toString(), '# a', 'the bytes read while waiting are still there');
});

test('a player that leaves while the body is judged ends the wait at once, listeners removed', async (t) => {
  const origin = await startOrigin(t, {
    '/quiet': {
      kind: 'handler',
      handle(_req, res) {
        res.writeHead(200, { 'content-type': 'video/mp2t' });
        res.flushHeaders();
      },
    },
  });
  const res = await open(t, origin.url('/quiet'));
  const player = Object.assign(new EventEmitter(), { destroyed: false });
  // Nothing ever arrives: only the player's close (or the sniff's deadline) can end the wait.
  const judged = isPlaylistBody(res, { timeoutMs: 60_000, player });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(player.listenerCount('close'), 1, 'listened to while waiting');
  let answer: boolean | undefined;
  void judged.then((v) => (answer = v));
  player.emit('close');
  // Settled by the close itself (before the next macrotask), not by a timer such as the sniff's 1 s deadline.
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(answer, false);
  assert.equal(player.listenerCount('close'), 0, 'no listener left behind');
  assert.equal(res.listenerCount('readable'), 0);
});

test('bytes held with the headers decide at once, with no promise, and the body still reads from its first byte', async (t) => {
  const ts = Buffer.alloc(188 * 4, 0x11);
  for (let i = 0; i < 4; i++) ts[i * 188] = 0x47;
  const playlist = Buffer.from('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg.ts\n');
  const origin = await startOrigin(t, {
    '/m.ts': { kind: 'file', body: ts },
    '/p': { kind: 'file', body: playlist },
    '/g': { kind: 'file', body: gzipSync(playlist), headers: { 'content-encoding': 'gzip' } },
    '/short': { kind: 'handler', handle: (_req, res) => { res.writeHead(200); res.write(Buffer.from([0x47])); } },
  });
  const media = await open(t, origin.url('/m.ts'));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(sniffHeld(media), 'media');
  assert.equal(playlistBodyNow(media, false), false);
  assert.deepEqual(await readAll(media), ts, 'every byte, from the first');

  const pl = await open(t, origin.url('/p'));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(playlistBodyNow(pl, false), true);
  assert.deepEqual(await readAll(pl), playlist);

  // Compressed, or too few bytes to tell: no verdict now, the caller waits for one.
  const gz = await open(t, origin.url('/g'));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(sniffHeld(gz), undefined);
  assert.equal(await isPlaylistBody(gz, { timeoutMs: 2_000 }), true);
  const short = await open(t, origin.url('/short'));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(sniffHeld(short), undefined);
  assert.equal(playlistBodyNow(short, true), false, 'a HEAD is never a playlist body');
});
