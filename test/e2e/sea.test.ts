// Black-box test of the single executable (SPEC §11): copied alone to a temp dir, it serves, plays, runs the CLI, stops on SIGTERM.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, get, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { cleanEnv, spawnProxy } from '../helpers/spawn-proxy.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BINARY = join(ROOT, 'build', process.platform === 'win32' ? 'm3u-proxy.exe' : 'm3u-proxy');
const run = promisify(execFile);

/** A VOD file with a Content-Length, and a live stream that never ends (one chunk per tick while the player reads). */
async function startOrigin(t: TestContext, movie: Buffer): Promise<string> {
  const ticking = new Set<NodeJS.Timeout>();
  const origin: Server = createServer((req, res) => {
    if (req.url === '/movie.mp4') {
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(movie.length) });
      res.end(movie);
      return;
    }
    if (req.url === '/live.ts') {
      res.writeHead(200, { 'content-type': 'video/mp2t' });
      const timer = setInterval(() => res.write(Buffer.alloc(188 * 7, 0x47)), 20);
      ticking.add(timer);
      res.once('close', () => {
        clearInterval(timer);
        ticking.delete(timer);
      });
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  t.after(() => {
    for (const timer of ticking) clearInterval(timer);
    origin.closeAllConnections();
    origin.close();
  });
  origin.listen(0, '127.0.0.1');
  await once(origin, 'listening');
  const addr = origin.address();
  assert.ok(addr && typeof addr === 'object');
  return `http://127.0.0.1:${addr.port}`;
}

async function createStream(base: string, url: string): Promise<{ stream_id: string; stream_endpoint: string }> {
  const res = await fetch(`${base}/streams`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url }) });
  assert.equal(res.status, 200);
  return (await res.json()) as { stream_id: string; stream_endpoint: string };
}

test('the single executable runs the server and the CLI with nothing beside it', async (t) => {
  // Built here, from the sources under test, so the binary can never be stale or missing (npm test is all CI runs).
  await run(process.execPath, ['--import', 'tsx', join(ROOT, 'bin', 'build-sea.ts')], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  assert.ok(existsSync(BINARY), `${BINARY} was not built`);
  const dir = mkdtempSync(join(tmpdir(), 'm3u-proxy-sea-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const exe = join(dir, 'm3u-proxy');
  copyFileSync(BINARY, exe);
  chmodSync(exe, 0o755);

  const version = await run(exe, ['--version'], { cwd: dir, env: cleanEnv() });
  assert.match(version.stdout, /\d+\.\d+\.\d+/);
  const help = await run(exe, ['--help'], { cwd: dir, env: cleanEnv() });
  assert.match(help.stdout, /--port/);

  const movie = randomBytes(1024 * 1024 + 17);
  const originBase = await startOrigin(t, movie);
  // The default STATE_FILE: ./data/state.json in the working directory (SPEC §12), here the temporary one.
  const stateEnv = cleanEnv();
  delete stateEnv['STATE_FILE'];
  const proxy = await spawnProxy(t, exe, [], { cwd: dir, env: stateEnv });

  const livez = await fetch(`${proxy.base}/livez`);
  assert.equal(livez.status, 200);
  assert.deepEqual(await livez.json(), { status: 'ok' });

  // VOD through the proxy: byte for byte.
  const vod = await createStream(proxy.base, `${originBase}/movie.mp4`);
  const played = await fetch(proxy.base + vod.stream_endpoint);
  assert.equal(played.status, 200);
  const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
  assert.equal(md5(Buffer.from(await played.arrayBuffer())), md5(movie));

  // The CLI is the same executable.
  const listed = await run(exe, ['list', '--url', proxy.base, '--json'], { cwd: dir, env: cleanEnv() });
  assert.ok(listed.stdout.includes(vod.stream_id), 'the CLI lists the stream');

  // SIGTERM while a player is connected to a live stream: the player's connection ends, the process exits 0.
  const live = await createStream(proxy.base, `${originBase}/live.ts`);
  const player = await new Promise<IncomingMessage>((resolve, reject) => {
    get(proxy.base + live.stream_endpoint, resolve).once('error', reject);
  });
  t.after(() => player.destroy());
  assert.equal(player.statusCode, 200);
  const [first] = (await once(player, 'data')) as [Buffer];
  assert.ok(first.length > 0, 'the player receives bytes');
  player.resume();
  const playerGone = new Promise<void>((resolve) => player.once('close', () => resolve()));
  proxy.child.kill('SIGTERM');
  await playerGone;
  assert.deepEqual(await proxy.exited, { code: 0, signal: null });

  // Started again: both streams are back from ./data/state.json.
  assert.ok(existsSync(join(dir, 'data', 'state.json')), 'the state file is in ./data');
  const again = await spawnProxy(t, exe, [], { cwd: dir, env: stateEnv });
  const relisted = await run(exe, ['list', '--url', again.base, '--json'], { cwd: dir, env: cleanEnv() });
  assert.ok(relisted.stdout.includes(vod.stream_id) && relisted.stdout.includes(live.stream_id), 'the streams came back');
});
