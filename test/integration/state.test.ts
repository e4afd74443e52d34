// SPEC §12 on the real process: streams, webhooks and playback URLs survive a restart (even kill -9), every create
// answered 200 is on disk, and a state file that cannot be used stops start-up with exit 2 and is left untouched.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { get } from '../helpers/hls.ts';
import { startOrigin } from '../helpers/origin.ts';
import { tempDir as makeTempDir, trackChild } from '../helpers/children.ts';
import { cleanEnv, spawnProxy, type SpawnedProxy } from '../helpers/spawn-proxy.ts';
import { api } from '../helpers/start-proxy.ts';
import { startReceiver } from '../helpers/webhook-receiver.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(ROOT, 'src', 'main.ts');

/** The state tests' data dir: removed only once every proxy the test started has exited (a restarted one writes there). */
function tempDir(t: TestContext): Promise<string> {
  return makeTempDir(t, 'm3u-state-');
}

function start(t: TestContext, stateFile: string): Promise<SpawnedProxy> {
  return spawnProxy(t, process.execPath, ['--import', 'tsx', MAIN], { cwd: ROOT, env: cleanEnv({ STATE_FILE: stateFile }) });
}

async function kill9(p: SpawnedProxy): Promise<void> {
  p.child.kill('SIGKILL');
  await p.exited;
}

/** Runs the server expecting it to stop at start-up: its exit code and stderr. */
function runToExit(t: TestContext, env: NodeJS.ProcessEnv, ids?: { uid: number; gid: number }): Promise<{ code: number | null; stderr: string }> {
  const child = trackChild(t, spawn(process.execPath, ['--import', 'tsx', MAIN, '--host', '127.0.0.1', '--port', '0'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'], ...ids }));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => (stderr += c));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stderr }));
    // Listening means the state problem was not caught at start-up: fail rather than wait.
    child.stderr.on('data', () => {
      if (stderr.includes('m3u-proxy listening')) child.kill('SIGKILL');
    });
  });
}

const PLAYLIST = '#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:6.0,\nseg0.ts\n#EXT-X-ENDLIST\n';

test('§12 after a kill -9 and a restart: streams, failover position, webhooks and the HLS URLs players hold all work', async (t) => {
  const dir = await tempDir(t);
  const stateFile = join(dir, 'data', 'state.json');
  const segment = Buffer.alloc(188 * 50, 0x47);
  const movie = Buffer.alloc(64 * 1024, 7);
  const origin = await startOrigin(t, {
    '/live/index.m3u8': { kind: 'file', body: Buffer.from(PLAYLIST), contentType: 'application/vnd.apple.mpegurl' },
    '/live/seg0.ts': { kind: 'file', body: segment, contentType: 'video/mp2t' },
    '/movie.ts': { kind: 'file', body: movie, contentType: 'video/mp2t' },
  });
  const receiver = await startReceiver(t);

  const first = await start(t, stateFile);
  assert.equal((await api(first.base, 'POST', '/webhooks', { url: receiver.url, headers: { 'X-Hook-Key': 'h1' }, timeout: 5, retry_attempts: 1 })).status, 200);
  const hls = await api(first.base, 'POST', '/streams', {
    url: origin.url('/live/index.m3u8'),
    failover_urls: [origin.url('/live/index.m3u8?backup=1')],
    headers: { 'X-Provider-Key': 'k1' },
    metadata: { id: 7, playlist: 'sports' },
    user_agent: 'TestAgent/1',
  });
  assert.equal(hls.status, 200);
  const hlsId = (hls.body as { stream_id: string }).stream_id;
  const direct = await api(first.base, 'POST', '/streams', { url: origin.url('/movie.ts') });
  const directId = (direct.body as { stream_id: string }).stream_id;
  // The failover position is part of the state (the backup URL serves the same playlist: the origin ignores queries).
  assert.equal((await api(first.base, 'POST', `/streams/${hlsId}/failover`)).status, 200);
  assert.equal((await api(first.base, 'POST', `/streams/${directId}/failover`)).status, 409);
  // A player fetches the playlist and holds its sealed segment URL.
  const playlist = await get(`${first.base}/hls/${hlsId}/playlist.m3u8`);
  assert.equal(playlist.status, 200);
  // Relative to the playlist (SPEC §2), so the same URI resolves against the restarted process's port.
  const segmentUri = playlist.text.split('\n').find((l) => l.startsWith('s/'));
  assert.ok(segmentUri, playlist.text);
  const before = (await api(first.base, 'GET', `/streams/${hlsId}`)).body as { stream: Record<string, unknown> };
  assert.equal(before.stream['current_failover_index'], 1);
  await receiver.until(() => receiver.ofType('stream_started').length === 2, 'stream_started of both streams');
  await receiver.until(() => receiver.ofType('client_connected').length === 1, 'client_connected before the restart');
  await kill9(first);

  const deliveredBefore = receiver.deliveries.length;
  const second = await start(t, stateFile);
  assert.match(second.log(), /state restored .*streams=2 webhooks=1/);
  const list = (await api(second.base, 'GET', '/streams')).body as { streams: Array<Record<string, unknown>> };
  assert.deepEqual(list.streams.map((s) => s['stream_id']).sort(), [hlsId, directId].sort());
  const after = (await api(second.base, 'GET', `/streams/${hlsId}`)).body as { stream: Record<string, unknown>; client_count: number };
  assert.equal(after.client_count, 0, 'no clients come back');
  for (const field of ['original_url', 'current_url', 'failover_urls', 'user_agent', 'metadata', 'created_at', 'current_failover_index']) {
    assert.deepEqual(after.stream[field], before.stream[field], field);
  }
  const hooks = (await api(second.base, 'GET', '/webhooks')).body as { webhooks: Array<Record<string, unknown>> };
  assert.deepEqual(
    hooks.webhooks.map((w) => [w['url'], w['timeout'], w['retry_attempts'], w['header_names']]),
    [[receiver.url, 5, 1, ['X-Hook-Key']]],
  );

  // The segment URL the player held (sealed under the URL_SECRET generated by the first process) still plays.
  const seg = await get(new URL(segmentUri, `${second.base}/hls/${hlsId}/playlist.m3u8`).href);
  assert.equal(seg.status, 200, seg.text.slice(0, 200));
  assert.deepEqual(seg.body, segment);
  assert.equal(origin.lastRequest('/live/seg0.ts').headers['x-provider-key'], 'k1', 'the stream headers came back');
  assert.equal(origin.lastRequest('/live/seg0.ts').headers['user-agent'], 'TestAgent/1');
  const played = await get(`${second.base}/stream/${directId}`);
  assert.equal(played.status, 200);
  assert.deepEqual(played.body, movie);

  // The webhook is live again, and no stream_started was sent for the restored streams.
  await receiver.until(() => receiver.deliveries.slice(deliveredBefore).some((d) => d.event.event_type === 'client_connected'), 'client_connected after the restart');
  assert.equal(receiver.deliveries[receiver.deliveries.length - 1]?.headers['x-hook-key'], 'h1');
  assert.deepEqual(receiver.deliveries.slice(deliveredBefore).filter((d) => d.event.event_type === 'stream_started'), []);
});

test('§12 kill -9 during a burst of creates: every create answered 200 is there after the restart', async (t) => {
  const dir = await tempDir(t);
  const stateFile = join(dir, 'state.json');
  const proxy = await start(t, stateFile);
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  t.after(() => agent.destroy());
  const acked = new Set<string>();
  const KILL_AFTER = 150;
  const TOTAL = 400;
  const create = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const body = JSON.stringify({ url: `http://127.0.0.1:9/burst/${i}.ts`, metadata: { n: i } });
      const req = request(`${proxy.base}/streams`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          if (res.statusCode === 200) acked.add((JSON.parse(text) as { stream_id: string }).stream_id);
          // The kill comes the moment the answer is in: a create answered before its write was durable would be lost.
          if (acked.size >= KILL_AFTER) proxy.child.kill('SIGKILL');
          resolve();
        });
        res.on('error', () => resolve());
      });
      req.on('error', () => resolve()); // the requests in flight at the kill fail: they were never acknowledged
      req.end(body);
    });
  await Promise.all(Array.from({ length: TOTAL }, (_, i) => create(i)));
  await proxy.exited;
  assert.ok(acked.size >= KILL_AFTER, `only ${acked.size} creates answered`);

  const again = await start(t, stateFile);
  const list = (await api(again.base, 'GET', '/streams')).body as { streams: Array<{ stream_id: string }> };
  const kept = new Set(list.streams.map((s) => s.stream_id));
  const lost = [...acked].filter((id) => !kept.has(id));
  assert.deepEqual(lost, [], `${lost.length} of ${acked.size} acknowledged creates lost`);
  // Group commit: the creates shared writes (the metric counts this process's writes: start-up only).
  assert.match(await (await fetch(`${again.base}/metrics`)).text(), /m3u_proxy_state_writes_total 1\b/);
});

test('§12 100 concurrent creates cost a handful of writes, not 100', async (t) => {
  const dir = await tempDir(t);
  const proxy = await start(t, join(dir, 'state.json'));
  const writes = async (): Promise<number> => Number(/m3u_proxy_state_writes_total (\d+)/.exec(await (await fetch(`${proxy.base}/metrics`)).text())?.[1]);
  const before = await writes();
  const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => api(proxy.base, 'POST', '/streams', { url: `http://127.0.0.1:9/c/${i}.ts` })));
  assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
  const used = (await writes()) - before;
  assert.ok(used >= 1 && used <= 20, `100 creates took ${used} writes`);
});

test('§12 a truncated or corrupt state file: exit 2, one clear line, the file left byte for byte', async (t) => {
  const dir = await tempDir(t);
  const stateFile = join(dir, 'state.json');
  const proxy = await start(t, stateFile);
  for (let i = 0; i < 3; i++) assert.equal((await api(proxy.base, 'POST', '/streams', { url: `http://127.0.0.1:9/t/${i}.ts` })).status, 200);
  await kill9(proxy);
  const good = await readFile(stateFile);
  const cases: Array<[string, Buffer]> = [
    ['truncated', good.subarray(0, Math.floor(good.length / 2))],
    ['empty', Buffer.alloc(0)],
    ['not JSON', Buffer.from('\u0000\u0001garbage')],
    ['wrong types', Buffer.from('{"version":1,"streams":{"a":1}}')],
    ['invalid entry', Buffer.from('{"version":1,"streams":[{"id":"00000000000000000000000000000000","definition":{"url":"ftp://x"},"current_index":0,"created_at":"2026-01-01T00:00:00Z"}]}')],
    ['invalid webhook after a valid one', Buffer.from('{"version":1,"webhooks":[{"url":"http://127.0.0.1:9/ok"},{"url":"ftp://bad"}]}')],
    ['newer format', Buffer.from('{"version":999,"streams":[],"future":true}')],
  ];
  for (const [what, bytes] of cases) {
    await writeFile(stateFile, bytes);
    const r = await runToExit(t, cleanEnv({ STATE_FILE: stateFile }));
    assert.equal(r.code, 2, `${what}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${what}: one line: ${r.stderr}`);
    assert.match(lines[0] ?? '', what === 'newer format' ? /newer m3u-proxy/ : /state file .*(not valid JSON|empty|not an array|invalid)/, what);
    assert.match(lines[0] ?? '', /left untouched/);
    assert.deepEqual(await readFile(stateFile), bytes, `${what}: the file is untouched`);
  }
  // The last good state is beside it.
  assert.match((await readFile(`${stateFile}.bak`)).toString(), /"version":1/);
});

test('§12 a state directory that cannot be written: exit 2 at start-up, before any change', async (t) => {
  const dir = await tempDir(t);
  // A parent that is a regular file (ENOTDIR): no user, root included, can create the state there.
  await writeFile(join(dir, 'file'), 'x');
  const notDir = await runToExit(t, cleanEnv({ STATE_FILE: join(dir, 'file', 'state.json') }));
  assert.equal(notDir.code, 2, notDir.stderr);
  assert.match(notDir.stderr.trim(), /^m3u-proxy: cannot (read|write) the state file .*ENOTDIR/);

  // A read-only directory (mode 0555). Root ignores permission bits, so as root the server runs as nobody (65534),
  // provided nobody can read the checkout; failing that, the immutable flag (chattr +i) binds root too.
  const ro = join(dir, 'ro');
  await mkdir(ro);
  await chmod(dir, 0o755);
  await chmod(ro, 0o555);
  let ids: { uid: number; gid: number } | undefined;
  let undo: (() => Promise<boolean>) | undefined;
  if (process.getuid?.() === 0) {
    if (await nobodyCanRun(t)) ids = { uid: 65534, gid: 65534 };
    // Undone in the finally below, before the temporary directory's removal (which the flag would refuse).
    else if (await run('chattr', ['+i', ro])) undo = () => run('chattr', ['-i', ro]);
    else {
      t.diagnostic('read-only case not run: root, the checkout is not readable by nobody, and chattr +i failed; only ENOTDIR was checked');
      return;
    }
  }
  try {
    const r = await runToExit(t, cleanEnv({ STATE_FILE: join(ro, 'state.json') }), ids);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^m3u-proxy: cannot write the state file .*(EACCES|EPERM)/);
  } finally {
    await undo?.();
  }
});

/** True when the command exits 0. */
function run(command: string, args: string[], ids?: { uid: number; gid: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: 'ignore', ...ids });
    child.once('error', () => resolve(false));
    child.once('close', (code) => resolve(code === 0));
  });
}

/** Whether user nobody can load the server's source with tsx (the checkout may sit under a private home directory). */
async function nobodyCanRun(t: TestContext): Promise<boolean> {
  const ok = await run(process.execPath, ['--import', 'tsx', '-e', `await import(${JSON.stringify(MAIN.replace(/main\.ts$/, 'config.ts'))})`], { uid: 65534, gid: 65534 });
  if (!ok) t.diagnostic('user nobody cannot load the source from this checkout');
  return ok;
}
