// Unit tests for the CLI's pure parts: byte sizes, rates, tables, argument parsing, renderers and monitor rate maths.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COMMANDS, commandHelp, DEFAULT_SERVER_URL, generalHelp, isClientCommand, parseCli, UsageError, type ParsedCli } from '../../src/cli/args.ts';
import { formatAgo, formatBitrate, formatBytes, formatDuration, formatFields, formatTable, formatTime } from '../../src/cli/format.ts';
import { computeRates, renderMonitorFrame, takeSnapshot } from '../../src/cli/monitor.ts';
import { renderCreated, renderFailover, renderHealth, renderInfo, renderList, renderStats, renderWebhooks } from '../../src/cli/views.ts';

test('formatBytes: IEC units, whole bytes, no 1024.0', () => {
  const cases: Array<[number, string]> = [
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [1024 * 1024 - 1, '1.0 MiB'],
    [20 * 1024 * 1024, '20.0 MiB'],
    [3.25 * 1024 ** 3, '3.3 GiB'],
    [2 * 1024 ** 4, '2.0 TiB'],
    [-1, '-'],
    [Number.NaN, '-'],
  ];
  for (const [n, want] of cases) assert.equal(formatBytes(n), want, String(n));
});

test('formatBitrate: SI units', () => {
  assert.equal(formatBitrate(0), '0 bit/s');
  assert.equal(formatBitrate(999), '999 bit/s');
  assert.equal(formatBitrate(850_000), '850 kbit/s');
  assert.equal(formatBitrate(12_345_678), '12.3 Mbit/s');
  assert.equal(formatBitrate(1.5e9), '1.5 Gbit/s');
  assert.equal(formatBitrate(-5), '-');
});

test('formatDuration, formatAgo, formatTime', () => {
  assert.equal(formatDuration(45), '45s');
  assert.equal(formatDuration(187), '3m 07s');
  assert.equal(formatDuration(7500), '2h 05m');
  assert.equal(formatDuration(273_600), '3d 04h');
  assert.equal(formatDuration(Number.NaN), '-');
  const now = Date.parse('2024-05-01T12:00:30Z');
  assert.equal(formatAgo('2024-05-01T12:00:00Z', now), '30s ago');
  assert.equal(formatAgo('2024-05-01T12:01:00Z', now), '0s ago', 'clock skew never shows negative');
  assert.equal(formatAgo(undefined, now), '-');
  assert.equal(formatTime('2024-05-01T12:00:03.123Z'), '2024-05-01 12:00:03Z');
  assert.equal(formatTime('garbage'), 'garbage');
});

test('formatTable: upper-case titles, alignment, no trailing spaces', () => {
  const text = formatTable([{ title: 'name' }, { title: 'size', align: 'right' }, { title: 'note' }], [
    ['a', '1 B', ''],
    ['longer', '10.0 KiB', 'x'],
  ]);
  assert.equal(text, ['NAME        SIZE  NOTE', 'a            1 B', 'longer  10.0 KiB  x'].join('\n'));
});

test('formatFields: aligned values, undefined rows dropped, multi-line values indented', () => {
  assert.equal(formatFields([['A', '1'], ['Longer', 'x\ny'], ['Skip', undefined]]), ['A:       1', 'Longer:  x', '         y'].join('\n'));
});

function command(parsed: ParsedCli) {
  assert.equal(parsed.kind, 'command');
  if (parsed.kind !== 'command') throw new Error('unreachable');
  return parsed;
}

function usageError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof UsageError && pattern.test(err.message));
}

test('isClientCommand: a command word as the first positional, global flags may come first', () => {
  for (const name of Object.keys(COMMANDS)) assert.equal(isClientCommand([name]), true, name);
  assert.equal(isClientCommand(['help']), true);
  assert.equal(isClientCommand(['--url', 'http://h:1', '--token', 't', '--json', 'list']), true);
  assert.equal(isClientCommand(['--url=http://h:1', 'stats']), true);
  assert.equal(isClientCommand([]), false);
  assert.equal(isClientCommand(['--port', '9000']), false, 'server flags');
  assert.equal(isClientCommand(['--help']), false, 'the server help');
  assert.equal(isClientCommand(['serve']), false);
  assert.equal(isClientCommand(['--', 'list']), false);
  // A server flag whose value happens to be a command's name still starts the server.
  assert.equal(isClientCommand(['--log-level', 'info', '--port', '0']), false, '--log-level info');
  assert.equal(isClientCommand(['--state-file', 'list']), false, '--state-file list');
  assert.equal(isClientCommand(['--log-level', 'info', 'list']), true, 'a command after them');
});

test('parseCli: global flags before or after the command; env and defaults', () => {
  const a = command(parseCli(['--url', 'http://h:1/root/', '--token', 'tok', 'list', '--json'], {}));
  assert.deepEqual(a.globals, { url: 'http://h:1/root', token: 'tok', json: true });
  const b = command(parseCli(['info', 'abc', '--url=http://h:2'], { API_TOKEN: 'envtok' }));
  assert.deepEqual(b.globals, { url: 'http://h:2', token: 'envtok', json: false });
  assert.deepEqual(b.args, ['abc']);
  const c = command(parseCli(['stats'], { M3U_PROXY_URL: 'https://proxy.example' }));
  assert.equal(c.globals.url, 'https://proxy.example');
  const d = command(parseCli(['stats'], { API_TOKEN: '' }));
  assert.deepEqual(d.globals, { url: DEFAULT_SERVER_URL, token: undefined, json: false });
  assert.equal(command(parseCli(['stats', '--token', 'flag'], { API_TOKEN: 'env' })).globals.token, 'flag', 'flag wins');
});

test('parseCli create: repeated options and the reference --failover A B form', () => {
  const p = command(parseCli(['create', 'http://a/x.m3u8', '--failover', 'http://b', 'http://c', '--header', 'Referer: http://r', '--header', 'X-A:1', '--meta', 'id=7', '--user-agent', 'VLC'], {}));
  assert.deepEqual(p.args, ['http://a/x.m3u8']);
  assert.deepEqual(p.options['failover'], ['http://b', 'http://c']);
  assert.deepEqual(p.options['header'], ['Referer: http://r', 'X-A:1']);
  assert.deepEqual(p.options['meta'], ['id=7']);
  assert.equal(p.options['user-agent'], 'VLC');
  const q = command(parseCli(['create', 'http://a', '--failover=http://b', 'http://c', '--failover', 'http://d'], {}));
  assert.deepEqual(q.args, ['http://a']);
  assert.deepEqual(q.options['failover'], ['http://b', 'http://c', 'http://d'], 'loose URLs after --failover join it, like argparse nargs');
  usageError(() => parseCli(['create', '--failover', 'http://b', 'http://a'], {}), /^create: missing URL$/);
});

test('parseCli: usage errors name the problem', () => {
  usageError(() => parseCli([], {}), /^missing command$/);
  usageError(() => parseCli(['lsit'], {}), /^unknown command 'lsit'$/);
  usageError(() => parseCli(['create'], {}), /^create: missing URL$/);
  usageError(() => parseCli(['info'], {}), /^info: missing stream ID$/);
  usageError(() => parseCli(['info', 'a', 'b'], {}), /^info: unexpected argument 'b'$/);
  usageError(() => parseCli(['list', '--bogus'], {}), /^list: unknown option '--bogus'$/);
  usageError(() => parseCli(['list', '--url'], {}), /^list: .*--url/);
  usageError(() => parseCli(['list', '--url', 'ftp://x'], {}), /^invalid --url 'ftp:\/\/x'/);
  usageError(() => parseCli(['list'], { M3U_PROXY_URL: 'nope' }), /^invalid M3U_PROXY_URL 'nope'/);
  usageError(() => parseCli(['webhooks'], {}), /^webhooks: missing action/);
  usageError(() => parseCli(['webhooks', 'zap'], {}), /^webhooks: unknown action 'zap'/);
  usageError(() => parseCli(['webhooks', 'add'], {}), /^webhooks: missing webhook URL$/);
  usageError(() => parseCli(['webhooks', 'list', 'x'], {}), /^webhooks: unexpected argument 'x'$/);
  usageError(() => parseCli(['help', 'nope'], {}), /^unknown command 'nope'$/);
});

test('parseCli: help for every command, general help, hidden options stay hidden', () => {
  const general = generalHelp();
  for (const name of Object.keys(COMMANDS) as Array<keyof typeof COMMANDS>) {
    assert.ok(general.includes(name), `general help lists ${name}`);
    const own = parseCli([name, '--help'], {});
    assert.deepEqual(own, { kind: 'help', text: commandHelp(name) });
    assert.deepEqual(parseCli(['help', name], {}), own);
    assert.match(commandHelp(name), new RegExp(`^Usage: m3u-proxy ${name}`));
    assert.match(commandHelp(name), /--url URL/);
  }
  assert.deepEqual(parseCli(['help'], {}), { kind: 'help', text: general });
  assert.deepEqual(parseCli(['--help'], {}), { kind: 'help', text: general });
  for (const word of ['--url', '--token', '--json', 'M3U_PROXY_URL', 'API_TOKEN']) assert.ok(general.includes(word), word);
  assert.match(commandHelp('monitor'), /--interval/);
  assert.doesNotMatch(commandHelp('monitor'), /--count/);
  assert.match(commandHelp('create'), /--failover URL/);
  assert.match(commandHelp('webhooks'), /--event E/);
});

const STREAM = {
  stream_id: '33ef51b8ad46bd85e23be0f91b74ce7b',
  original_url: 'http://example.com/stream.m3u8',
  current_url: 'http://backup.example.com/stream.m3u8',
  user_agent: 'VLC/3.0',
  client_count: 1,
  total_bytes_served: 1536,
  total_segments_served: 3,
  error_count: 0,
  is_active: true,
  has_failover: true,
  stream_type: 'HLS',
  created_at: '2024-05-01T12:00:00.000Z',
  last_access: '2024-05-01T12:00:20.000Z',
  metadata: { id: '7' },
  failover_urls: ['http://backup.example.com/stream.m3u8'],
  current_failover_index: 1,
  failover_count: 1,
};
const CLIENT = {
  client_id: 'client_0123456789abcdef',
  stream_id: STREAM.stream_id,
  user_agent: 'VLC/3.0',
  ip_address: '127.0.0.1',
  username: null,
  bytes_served: 1536,
  segments_served: 3,
  created_at: '2024-05-01T12:00:00.000Z',
  last_access: '2024-05-01T12:00:20.000Z',
};
const NOW = Date.parse('2024-05-01T12:00:30Z');

test('renderList: a table with human sizes and a count; empty list', () => {
  const text = renderList({ streams: [STREAM], total: 1 });
  const [header, row, , footer] = text.split('\n');
  assert.match(header ?? '', /^ID\s+TYPE\s+CLIENTS\s+SERVED\s+URL#\s+ACTIVE\s+URL$/);
  assert.match(row ?? '', /^33ef51b8ad46bd85e23be0f91b74ce7b\s+HLS\s+1\s+1\.5 KiB\s+2\/2\s+yes\s+http:\/\/backup\.example\.com\/stream\.m3u8$/);
  assert.equal(footer, '1 stream');
  assert.equal(renderList({ streams: [], total: 0 }), 'No streams.');
  assert.equal(renderList('not an object'), 'No streams.', 'tolerates an unexpected answer');
});

test('renderInfo: fields and the clients table', () => {
  const text = renderInfo({ stream: STREAM, clients: [CLIENT], client_count: 1 }, NOW);
  assert.match(text, /^Stream:\s+33ef51b8ad46bd85e23be0f91b74ce7b$/m);
  assert.match(text, /^Current URL:\s+http:\/\/backup\.example\.com\/stream\.m3u8 \(URL 2\/2\)$/m);
  assert.match(text, /^Bytes served:\s+1\.5 KiB$/m);
  assert.match(text, /^Last access:\s+10s ago$/m);
  assert.match(text, /^Metadata:\s+id=7$/m);
  assert.match(text, /^client_0123456789abcdef\s+127\.0\.0\.1\s+-\s+1\.5 KiB\s+3\s+10s ago\s+VLC\/3\.0$/m);
  assert.match(renderInfo({ stream: STREAM, clients: [], client_count: 0 }, NOW), /No clients\.$/);
});

test('renderCreated makes the playback URL absolute on the server URL, keeping ROOT_PATH once', () => {
  const body = { stream_id: 'abc', stream_type: 'hls', playlist_url: '/m3u-proxy/hls/abc/playlist.m3u8', primary_url: 'http://o/x.m3u8', failover_urls: [], message: 'Stream created successfully (hls)' };
  const text = renderCreated(body, 'http://127.0.0.1:8085/m3u-proxy');
  assert.match(text, /^Play:\s+http:\/\/127\.0\.0\.1:8085\/m3u-proxy\/hls\/abc\/playlist\.m3u8$/m);
  assert.doesNotMatch(text, /Failover URLs/, 'empty rows are left out');
});

test('renderFailover, renderHealth, renderStats, renderWebhooks', () => {
  assert.equal(renderFailover({ message: 'Failover successful', new_url: 'http://b', failover_index: 1 }), 'Failover successful: now on http://b (failover 1)');
  assert.equal(renderFailover({ message: 'Failover successful', new_url: 'http://a', failover_index: 0 }), 'Failover successful: now on http://a (primary)');
  const health = renderHealth({ status: 'healthy', version: '1.0.0', uptime_seconds: 3725, active_streams: 2, active_clients: 3, total_bytes_served: 5 * 1024 ** 3 });
  assert.match(health, /^Status:\s+healthy$/m);
  assert.match(health, /^Uptime:\s+1h 02m$/m);
  assert.match(health, /^Bytes served:\s+5\.0 GiB$/m);
  const stats = renderStats({ total_streams: 1, active_streams: 1, total_clients: 1, active_clients: 1, total_bytes_served: 1536, total_segments_served: 3, uptime_seconds: 5, streams: [STREAM], clients: [CLIENT] }, NOW);
  assert.match(stats, /^Streams:\s+1 \(1 active\)$/m);
  assert.match(stats, /^client_0123456789abcdef\s+33ef51b8ad46\s+127\.0\.0\.1/m);
  const hooks = renderWebhooks({ webhooks: [{ url: 'http://h/hook', events: ['stream_started'], timeout: 10, retry_attempts: 3 }, { url: 'http://h/all', events: [], timeout: 5, retry_attempts: 1 }] });
  assert.match(hooks, /^http:\/\/h\/hook\s+stream_started\s+10s\s+3$/m);
  assert.match(hooks, /^http:\/\/h\/all\s+all\s+5s\s+1$/m);
  assert.equal(renderWebhooks({ webhooks: [] }), 'No webhooks.');
});

test('monitor rates: byte deltas over time, none on the first poll or after a counter reset', () => {
  const stats = (streamBytes: number, clientBytes: number) => ({
    total_bytes_served: streamBytes,
    streams: [{ ...STREAM, total_bytes_served: streamBytes }],
    clients: [{ ...CLIENT, bytes_served: clientBytes }],
  });
  const first = takeSnapshot(stats(1000, 1000), 0);
  const r0 = computeRates(undefined, first);
  assert.equal(r0.total, undefined);
  assert.equal(r0.streams.size, 0);
  const second = takeSnapshot(stats(1000 + 250_000, 1000 + 125_000), 2000);
  const r1 = computeRates(first, second);
  assert.equal(r1.total, 1_000_000, '250 kB in 2 s = 1 Mbit/s');
  assert.equal(r1.streams.get(STREAM.stream_id), 1_000_000);
  assert.equal([...r1.clients.values()][0], 500_000);
  const reset = computeRates(second, takeSnapshot(stats(10, 10), 4000));
  assert.equal(reset.total, undefined);
  assert.equal(reset.streams.size, 0);

  const frame = renderMonitorFrame(stats(251_000, 126_000), r1, { url: 'http://h:1', nowMs: NOW, intervalS: 2 });
  assert.match(frame, /^m3u-proxy monitor {2}http:\/\/h:1 {2}12:00:30Z {2}every 2s$/m);
  assert.match(frame, /now 1\.0 Mbit\/s/);
  assert.match(frame, /^33ef51b8ad46\s+HLS\s+1\s+1\.0 Mbit\/s\s+245\.1 KiB\s+http:\/\/backup/m);
  assert.match(frame, /^client_0123456789abcdef\s+33ef51b8ad46\s+127\.0\.0\.1\s+500 kbit\/s/m);
});
