// The CLI client as a real child process (the installed entry bin/m3u-proxy.js) against the real app on 127.0.0.1:0 (SPEC §10).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';
import { COMMANDS } from '../../src/cli/args.ts';
import { runClientCommand } from '../../src/cli/index.ts';
import { startOrigin } from '../helpers/origin.ts';
import { openPlayer } from '../helpers/player.ts';
import { trackChild } from '../helpers/children.ts';
import { cleanEnv } from '../helpers/spawn-proxy.ts';
import { api, startProxy } from '../helpers/start-proxy.ts';
import { startReceiver } from '../helpers/webhook-receiver.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The one place that says how the CLI is launched: the real entry, which routes command words to the client. */
const CLI = [process.execPath, 'bin/m3u-proxy.js'];
/** A safety net only: a CLI call that hangs this long has failed. */
const CHILD_LIMIT_MS = 20_000;

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  env?: Record<string, string>;
  /** Called once with the child's stdout text so far, on every chunk; lets a test signal the child mid-run. */
  onStdout?: (soFar: string, kill: (signal: NodeJS.Signals) => void) => void;
}

/** Runs the CLI with a clean environment (nothing inherited that changes its target or token); killed in t.after if still running. */
async function cli(t: TestContext, args: string[], options: RunOptions = {}): Promise<CliResult> {
  const [command = process.execPath, ...prefix] = CLI;
  const child = trackChild(t, spawn(command, [...prefix, ...args], { cwd: ROOT, env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] }));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const limit = setTimeout(() => child.kill('SIGKILL'), CHILD_LIMIT_MS);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    options.onStdout?.(stdout, (signal) => child.kill(signal));
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await exited;
  clearTimeout(limit);
  // 'exit' can precede the last pipe data; wait for both pipes to close.
  await Promise.all([closed(child.stdout), closed(child.stderr)]);
  return { code, stdout, stderr };
}

function closed(stream: NodeJS.ReadableStream & { closed?: boolean }): Promise<void> {
  return stream.closed === true ? Promise.resolve() : new Promise((resolve) => stream.once('close', () => resolve()));
}

function json(text: string): Record<string, unknown> {
  return JSON.parse(text) as Record<string, unknown>;
}

/** A port nothing listens on: bound then released. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

test('create, list, info, failover, delete: human output, --json, exit codes', async (t) => {
  const { base, app } = await startProxy(t);
  const url = 'http://origin.invalid/live.m3u8';

  const created = await cli(t, ['create', url, '--failover', 'http://b.invalid/live.m3u8', '--meta', 'id=7', '--header', 'Referer: http://r', '--url', base]);
  assert.equal(created.code, 0, created.stderr);
  assert.equal(created.stderr, '');
  const idMatch = /^Stream:\s+([0-9a-f]{32})$/m.exec(created.stdout);
  assert.ok(idMatch, created.stdout);
  const id = idMatch[1] ?? '';
  assert.match(created.stdout, new RegExp(`^Play:\\s+${base}/hls/${id}/playlist\\.m3u8$`, 'm'));
  assert.deepEqual(app.registry.getStream(id)?.metadata, { id: '7' });

  const again = await cli(t, ['--json', '--url', base, 'create', url, '--user-agent', 'VLC/3']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(json(again.stdout)['stream_id'], id, 'same URL, same id');
  assert.equal(json(again.stdout)['user_agent'], 'VLC/3');

  const listed = await cli(t, ['list', '--url', base]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^ID\s+TYPE\s+CLIENTS\s+SERVED/m);
  assert.match(listed.stdout, new RegExp(`^${id}\\s+HLS\\s+0\\s+0 B\\s+1/1\\s+no\\s+${url.replace(/\./g, '\\.')}$`, 'm'));
  assert.match(listed.stdout, /^1 stream$/m);
  const listedJson = await cli(t, ['list', '--json', '--url', base]);
  assert.equal(json(listedJson.stdout)['total'], 1);

  const info = await cli(t, ['info', id, '--url', base]);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, new RegExp(`^Stream:\\s+${id}$`, 'm'));
  assert.match(info.stdout, /^User agent:\s+VLC\/3$/m);
  assert.match(info.stdout, /No clients\./);

  // The second create replaced the failover list with none (SPEC §3.1 updates): failover is a 409 now.
  const noFailover = await cli(t, ['failover', id, '--url', base]);
  assert.equal(noFailover.code, 1);
  assert.equal(noFailover.stdout, '');
  assert.match(noFailover.stderr, /^m3u-proxy: .*\(HTTP 409\)\n$/);

  await cli(t, ['create', url, '--failover', 'http://b.invalid/live.m3u8', '--url', base]);
  const failover = await cli(t, ['failover', id, '--url', base]);
  assert.equal(failover.code, 0, failover.stderr);
  assert.equal(failover.stdout, 'Failover successful: now on http://b.invalid/live.m3u8 (failover 1)\n');

  const deleted = await cli(t, ['delete', id, '--url', base]);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.equal(deleted.stdout, `Stream ${id} deleted\n`);
  assert.equal(app.registry.getStream(id), undefined, 'the stream is gone');

  const missing = await cli(t, ['info', id, '--url', base]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stdout, '');
  assert.equal(missing.stderr, `m3u-proxy: Stream ${id} not found (HTTP 404)\n`);
  assert.equal((await cli(t, ['list', '--url', base])).stdout, 'No streams.\n');
});

test('stats and health: human and --json; M3U_PROXY_URL and ROOT_PATH', async (t) => {
  const { base } = await startProxy(t, { rootPath: '/m3u-proxy' });
  assert.match(base, /\/m3u-proxy$/);
  const env = { M3U_PROXY_URL: base };
  await cli(t, ['create', 'http://origin.invalid/movie.mp4'], { env });

  const stats = await cli(t, ['stats'], { env });
  assert.equal(stats.code, 0, stats.stderr);
  assert.match(stats.stdout, /^Streams:\s+1 \(0 active\)$/m);
  assert.match(stats.stdout, /^Bytes served:\s+0 B$/m);
  assert.match(stats.stdout, /\s+VOD\s+/);
  const statsJson = json((await cli(t, ['stats', '--json'], { env })).stdout);
  assert.equal(statsJson['total_streams'], 1);

  const health = await cli(t, ['health'], { env });
  assert.equal(health.code, 0, health.stderr);
  assert.match(health.stdout, /^Status:\s+healthy$/m);
  assert.match(health.stdout, /^Version:\s+\d+\.\d+\.\d+$/m);
  assert.equal(json((await cli(t, ['health', '--json'], { env })).stdout)['status'], 'healthy');
});

test('webhooks add, list, test, remove', async (t) => {
  const { base } = await startProxy(t);
  const receiver = await startReceiver(t);

  const added = await cli(t, ['webhooks', 'add', receiver.url, '--event', 'stream_started', '--event', 'stream_stopped', '--url', base]);
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /events: stream_started, stream_stopped\)\n$/);

  const listed = await cli(t, ['webhooks', 'list', '--url', base]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, new RegExp(`^${receiver.url.replace(/\./g, '\\.')}\\s+stream_started,stream_stopped\\s+10s\\s+3$`, 'm'));

  const tested = await cli(t, ['webhooks', 'test', receiver.url, '--url', base]);
  assert.equal(tested.code, 0, tested.stderr);
  const eventId = /\(event ([0-9a-f-]{36})\)/.exec(tested.stdout)?.[1];
  assert.ok(eventId, tested.stdout);
  await receiver.until(() => receiver.deliveries.some((d) => d.event.event_id === eventId), 'the test event');

  const removed = await cli(t, ['webhooks', 'remove', receiver.url, '--url', base]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(json((await cli(t, ['webhooks', 'list', '--json', '--url', base])).stdout)['webhooks'] instanceof Array, true);
  const again = await cli(t, ['webhooks', 'remove', receiver.url, '--url', base]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /\(HTTP 404\)/);
});

test('monitor: plain frames when piped, live bit rates from byte deltas, --json lines, stops on SIGINT', async (t) => {
  const origin = await startOrigin(t, { '/live.ts': { kind: 'live', chunkBytes: 8 * 1024, intervalMs: 10 } });
  const { base } = await startProxy(t);
  const created = await api(base, 'POST', '/streams', { url: origin.url('/live.ts') });
  const endpoint = (created.body as { stream_endpoint: string }).stream_endpoint;
  const player = await openPlayer(t, `http://127.0.0.1:${new URL(base).port}${endpoint}`);
  await player.waitBytes(64 * 1024);

  const frames = await cli(t, ['monitor', '--interval', '0.2', '--count', '3', '--url', base]);
  assert.equal(frames.code, 0, frames.stderr);
  assert.doesNotMatch(frames.stdout, /\x1b\[/, 'no ANSI codes when piped');
  assert.equal(frames.stdout.match(/^m3u-proxy monitor /gm)?.length, 3);
  assert.match(frames.stdout, /now -/, 'no rate before a second poll');
  assert.match(frames.stdout, /now \d+(\.\d)? [kMG]?bit\/s/, 'a rate once two polls exist');
  assert.match(frames.stdout, /Live Continuous\s+1\s+\d+(\.\d)? [kMG]?bit\/s/);

  const lines = await cli(t, ['monitor', '--json', '--interval', '0.2', '--count', '2', '--url', base]);
  assert.equal(lines.code, 0, lines.stderr);
  const polls = lines.stdout.trim().split('\n').map(json);
  assert.equal(polls.length, 2);
  assert.equal(polls[0]?.['bitrate_bps'], null);
  assert.ok(typeof polls[1]?.['bitrate_bps'] === 'number' && polls[1]['bitrate_bps'] > 0, 'bytes flowed between the polls');

  // Without --count the monitor runs until Ctrl-C, then exits 0.
  let signalled = false;
  const interrupted = await cli(t, ['monitor', '--interval', '0.1', '--url', base], {
    onStdout(soFar, kill) {
      if (!signalled && soFar.includes('m3u-proxy monitor')) {
        signalled = true;
        kill('SIGINT');
      }
    },
  });
  assert.equal(signalled, true);
  assert.equal(interrupted.code, 0, interrupted.stderr);
});

test('monitor into a pipe whose reader left (| head -1): exit 0, nothing on stderr', async (t) => {
  const { base } = await startProxy(t);
  const [command = process.execPath, ...prefix] = CLI;
  const child = trackChild(t, spawn(command, [...prefix, 'monitor', '--interval', '0.05', '--url', base], { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));
  const limit = setTimeout(() => child.kill('SIGKILL'), CHILD_LIMIT_MS);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  // The reader takes the first frame and goes, as `head -1` does: the monitor's next write meets a closed pipe.
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(limit);
  assert.equal(code, 0, stderr);
  assert.equal(stderr, '', 'an unhandled EPIPE printed its stack before');
});

test('auth: no token 401, wrong token 403 (stderr, exit 1); --token and API_TOKEN work', async (t) => {
  const { base } = await startProxy(t, { apiToken: 'right-token' });

  const none = await cli(t, ['list', '--url', base]);
  assert.equal(none.code, 1);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /^m3u-proxy: API token required\..*\(HTTP 401; check --token or API_TOKEN\)\n$/);

  const wrong = await cli(t, ['list', '--url', base, '--token', 'wrong-token']);
  assert.equal(wrong.code, 1);
  assert.equal(wrong.stdout, '');
  assert.equal(wrong.stderr, 'm3u-proxy: Invalid API token (HTTP 403; check --token or API_TOKEN)\n');
  assert.ok(!wrong.stderr.includes('wrong-token'), 'the token is never echoed');

  assert.equal((await cli(t, ['list', '--url', base, '--token', 'right-token'])).code, 0);
  assert.equal((await cli(t, ['--token=right-token', 'health', '--url', base])).code, 0);
  assert.equal((await cli(t, ['list', '--url', base], { env: { API_TOKEN: 'right-token' } })).code, 0);
});

test('unreachable server: one line on stderr, exit 1', async (t) => {
  const url = `http://127.0.0.1:${await deadPort()}`;
  for (const command of [['list'], ['health'], ['monitor', '--count', '1']]) {
    const result = await cli(t, [...command, '--url', url]);
    assert.equal(result.code, 1, command.join(' '));
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, `m3u-proxy: cannot reach server at ${url} (ECONNREFUSED)\n`);
  }
});

test('usage errors exit 2 on stderr; help exits 0 on stdout', async (t) => {
  const missing = await cli(t, ['create']);
  assert.equal(missing.code, 2);
  assert.equal(missing.stdout, '');
  assert.match(missing.stderr, /^m3u-proxy: create: missing URL\n/);

  const badFlag = await cli(t, ['list', '--verbose']);
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /unknown option '--verbose'/);

  const badUrl = await cli(t, ['list', '--url', 'localhost:8085']);
  assert.equal(badUrl.code, 2);
  assert.match(badUrl.stderr, /invalid --url/);

  const help = await cli(t, ['help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: m3u-proxy <command>/);
  const createHelp = await cli(t, ['create', '--help']);
  assert.equal(createHelp.code, 0);
  assert.match(createHelp.stdout, /^Usage: m3u-proxy create URL/);
  assert.equal(createHelp.stderr, '');
});

test('m3u-proxy --help (the real entry) lists the server options and every client command with its options', async (t) => {
  const help = await cli(t, ['--help']);
  assert.equal(help.code, 0);
  assert.equal(help.stderr, '');
  for (const word of ['--port', '--root-path', 'API_TOKEN', 'CLIENT_TIMEOUT', 'SHARE_LIVE_UPSTREAM']) assert.ok(help.stdout.includes(word), `server: ${word}`);
  for (const spec of Object.values(COMMANDS)) assert.ok(help.stdout.includes(spec.synopsis), `command: ${spec.synopsis}`);
  for (const word of ['--url URL', '--token TOKEN', '--json']) assert.ok(help.stdout.includes(word), `client option: ${word}`);
  // The server's table comes first: a reader looking for how to run it finds that at the top.
  assert.ok(help.stdout.indexOf('--port') < help.stdout.indexOf('Client commands'));
});

/** An in-memory terminal: collects writes, claims to be a TTY of the given width, and reports each write. */
function fakeTerminal(columns: number, onWrite: (all: string) => void = () => {}): Writable & { isTTY: boolean; columns: number; text(): string } {
  let all = '';
  const out = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      all += chunk.toString();
      onWrite(all);
      done();
    },
  });
  return Object.assign(out, { isTTY: true, columns, text: () => all });
}

test('monitor on a TTY redraws in place with ANSI, cuts lines to the width, and stops when the caller aborts', async (t) => {
  const { base } = await startProxy(t);
  await api(base, 'POST', '/streams', { url: 'http://origin.invalid/a-rather-long-path/that/would/wrap/live.m3u8' });
  const stderr = fakeTerminal(80);

  const term = fakeTerminal(40);
  const code = await runClientCommand(['monitor', '--interval', '0.05', '--count', '2', '--url', base], {}, { stdout: term, stderr });
  assert.equal(code, 0, stderr.text());
  const out = term.text();
  assert.equal(out.split('\x1b[2J').length - 1, 1, 'the screen is cleared once');
  assert.equal(out.split('\x1b[H').length - 1, 2, 'each frame starts at home');
  assert.ok(out.startsWith('\x1b[?25l') && out.endsWith('\x1b[?25h'), 'cursor hidden while drawing, shown again');
  // Without the CSI sequences, what remains is what the user sees on each row.
  const visible = out.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').split('\n');
  assert.ok(visible.every((row) => row.length <= 40), 'no row wraps');

  const stop = new AbortController();
  const live = fakeTerminal(120, (all) => {
    if (all.includes('m3u-proxy monitor')) stop.abort();
  });
  const stopped = await runClientCommand(['monitor', '--interval', '0.05', '--url', base], {}, { stdout: live, stderr, signal: stop.signal });
  assert.equal(stopped, 0);
  assert.ok(live.text().endsWith('\x1b[?25h'));
});
