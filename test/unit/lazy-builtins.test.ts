// Issue 24.7: the bundle loads TLS, crypto, zlib, child processes and promise fs at their first use
// (bin/lazy-builtins.ts). An idle server built from src/ loads none of them; a use still finds every name.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { bundleEntry, bundleServer } from '../../bin/bundle.ts';
import { LAZY_BUILTINS, makeRequiresLazy } from '../../bin/lazy-builtins.ts';
import { startOrigin, waitFor } from '../helpers/origin.ts';
import { cleanEnv, spawnProxy } from '../helpers/spawn-proxy.ts';

const run = promisify(execFile);
// node:net's listen() loads child_process itself (through cluster), in every server: it is lazy for the rest only.
const LAZY_MODULES = LAZY_BUILTINS.filter((name) => name !== 'child_process').map((name) => `NativeModule ${name}`);

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'm3u-lazy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the lazy require keeps every column of the bundle where it was (the source map stays exact)', () => {
  const code = 'var a=require("node:crypto"),b=require("node:path"),c=require("node:fs/promises");';
  const lazy = makeRequiresLazy(code);
  assert.equal(lazy.length, code.length);
  assert.equal(lazy, 'var a=__lzreq("node:crypto"),b=require("node:path"),c=__lzreq("node:fs/promises");');
});

test('a bundled module loads a lazy built-in at its first use, and named, default and class imports work', async (t) => {
  const dir = tempDir(t);
  const entry = join(dir, 'entry.ts');
  writeFileSync(
    entry,
    `import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { Gzip } from 'node:zlib';
const loaded = () => process.moduleLoadList.filter((m) => m === 'NativeModule crypto' || m === 'NativeModule zlib');
const before = loaded();
const hash = createHash('sha256').update('x').digest('hex');
const afterCrypto = loaded();
const text = zlib.gunzipSync(zlib.gzipSync('hello')).toString();
const gzip = new Gzip();
process.stdout.write(JSON.stringify({ before, afterCrypto, after: loaded(), hash, text, isGzip: gzip instanceof zlib.Gzip }));
`,
  );
  const out = join(dir, 'entry.cjs');
  await bundleEntry(entry, out, false);
  const { stdout } = await run(process.execPath, [out]);
  const r = JSON.parse(stdout) as { before: string[]; afterCrypto: string[]; after: string[]; hash: string; text: string; isGzip: boolean };
  assert.deepEqual(r.before, [], 'nothing is loaded by the imports themselves');
  assert.deepEqual(r.afterCrypto, ['NativeModule crypto'], 'crypto at its first call, zlib not yet');
  assert.deepEqual(r.after.sort(), ['NativeModule crypto', 'NativeModule zlib']);
  assert.equal(r.hash, '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881');
  assert.equal(r.text, 'hello');
  assert.equal(r.isGzip, true, 'a class reached through the stand-in is the real class');
});

test('the idle server loads none of them (with a token, a state file and a URL secret); HLS then loads crypto and plays', async (t) => {
  const dir = tempDir(t);
  const bundle = join(dir, 'main.cjs');
  await bundleServer(bundle, false);
  const listFile = join(dir, 'modules.json');
  const preload = join(dir, 'modules.cjs');
  // Written whole, then renamed: the test never reads a half-written list.
  const fs = `require('node:fs')`;
  writeFileSync(
    preload,
    `process.on('SIGUSR2', () => { ${fs}.writeFileSync(${JSON.stringify(`${listFile}.tmp`)}, JSON.stringify(process.moduleLoadList)); ${fs}.renameSync(${JSON.stringify(`${listFile}.tmp`)}, ${JSON.stringify(listFile)}); });\n`,
  );
  const loadedNow = async (child: { kill(signal: NodeJS.Signals): boolean }): Promise<string[]> => {
    rmSync(listFile, { force: true });
    child.kill('SIGUSR2');
    await waitFor(() => existsSync(listFile), 5_000, 'the module list');
    return (JSON.parse(readFileSync(listFile, 'utf8')) as string[]).filter((m) => LAZY_MODULES.includes(m));
  };

  const origin = await startOrigin(t, {
    '/live/index.m3u8': {
      kind: 'file',
      contentType: 'application/vnd.apple.mpegurl',
      body: Buffer.from('#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:1\n#EXTINF:6.0,\nseg1.ts\n'),
    },
    '/live/seg1.ts': { kind: 'file', contentType: 'video/mp2t', body: Buffer.alloc(188 * 10, 0x47) },
  });
  const env = cleanEnv({ API_TOKEN: 'lazy-token', URL_SECRET: 'a configured secret', STATE_FILE: join(dir, 'state.json') });
  const proxy = await spawnProxy(t, process.execPath, ['--require', preload, bundle], { cwd: dir, env });
  assert.deepEqual(await loadedNow(proxy.child), [], 'an idle server has loaded none of the lazy built-ins');

  const created = await fetch(`${proxy.base}/streams`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-token': 'lazy-token' },
    body: JSON.stringify({ url: origin.url('/live/index.m3u8') }),
  });
  assert.equal(created.status, 200);
  const { playlist_url: playlistUrl } = (await created.json()) as { playlist_url: string };
  const playlist = await fetch(proxy.base + playlistUrl);
  assert.equal(playlist.status, 200);
  const segment = (await playlist.text()).split('\n').find((l) => l !== '' && !l.startsWith('#'));
  assert.ok(segment, 'the playlist lists its segment');
  const media = await fetch(new URL(segment, proxy.base + playlistUrl));
  assert.equal(media.status, 200);
  assert.equal((await media.arrayBuffer()).byteLength, 188 * 10);
  assert.ok((await loadedNow(proxy.child)).includes('NativeModule crypto'), 'the first token loaded crypto');
  proxy.child.kill('SIGTERM');
  assert.equal((await proxy.exited).code, 0);
});
