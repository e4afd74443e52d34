// Unit tests for src/config.ts: every setting, precedence flags > env > .env, aliases, .env syntax, errors, --help/--version.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DEFAULT_USER_AGENT, parseDotenv, parseServerArgs, VERSION, type Config } from '../../src/config.ts';
import { ConfigError } from '../../src/errors.ts';

function run(argv: string[] = [], env: Record<string, string | undefined> = {}, dotenv?: string): Config {
  const cmd = parseServerArgs(argv, env, dotenv);
  assert.equal(cmd.kind, 'run');
  if (cmd.kind !== 'run') throw new Error('unreachable');
  return cmd.config;
}

/** Asserts a ConfigError whose single line matches `pattern`, and returns the message. */
function configError(fn: () => unknown, pattern: RegExp): string {
  let message = '';
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    message = err.message;
    return true;
  });
  assert.match(message, pattern);
  assert.ok(!message.includes('\n'), `one line: ${message}`);
  return message;
}

test('defaults match SPEC §2', () => {
  const c = run();
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.port, 8085);
  assert.equal(c.logLevel, 'info');
  assert.equal(c.logFormat, 'text');
  assert.equal(c.apiToken, undefined);
  assert.equal(c.rootPath, '');
  assert.equal(c.publicUrl, undefined);
  assert.equal(c.clientTimeoutMs, 30_000);
  assert.equal(c.streamTimeoutMs, 300_000);
  assert.equal(c.cleanupIntervalMs, 60_000);
  assert.equal(c.defaultUserAgent, DEFAULT_USER_AGENT);
  assert.match(c.defaultUserAgent, /Chrome\/115/);
  assert.equal(c.connectTimeoutMs, 10_000);
  assert.equal(c.readTimeoutMs, 30_000);
  assert.equal(c.maxRetries, 3);
  assert.equal(c.trustProxy, 'private');
  assert.deepEqual(c.corsOrigins, []);
  assert.deepEqual(c.allowedHosts, []);
  assert.equal(c.urlSecret().length, 32);
  assert.equal(c.urlSecret(), c.urlSecret(), 'made once');
  assert.equal(c.urlSecretRandom, true);
  assert.equal(c.webhookSecret, undefined);
  assert.ok(Object.isFrozen(c));
});

test('every environment variable is read', () => {
  const c = run([], {
    HOST: '127.0.0.1',
    PORT: '9000',
    LOG_LEVEL: 'debug',
    LOG_FORMAT: 'json',
    API_TOKEN: 'tok',
    ROOT_PATH: '/m3u-proxy',
    PUBLIC_URL: 'https://tv.example.com',
    CLIENT_TIMEOUT: '12',
    STREAM_TIMEOUT: '600',
    CLEANUP_INTERVAL: '5',
    DEFAULT_CONNECTION_TIMEOUT: '2.5',
    DEFAULT_READ_TIMEOUT: '0.25',
    DEFAULT_MAX_RETRIES: '7',
    DEFAULT_USER_AGENT: 'VLC/3.0.18',
    TRUST_PROXY: 'true',
    URL_SECRET: 'hunter2',
    WEBHOOK_SECRET: 'whsec',
  });
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.port, 9000);
  assert.equal(c.logLevel, 'debug');
  assert.equal(c.logFormat, 'json');
  assert.equal(c.apiToken, 'tok');
  assert.equal(c.rootPath, '/m3u-proxy');
  assert.equal(c.publicUrl, 'https://tv.example.com');
  assert.equal(c.clientTimeoutMs, 12_000);
  assert.equal(c.streamTimeoutMs, 600_000);
  assert.equal(c.cleanupIntervalMs, 5_000);
  assert.equal(c.connectTimeoutMs, 2_500);
  assert.equal(c.readTimeoutMs, 250);
  assert.equal(c.maxRetries, 7);
  assert.equal(c.defaultUserAgent, 'VLC/3.0.18');
  assert.equal(c.trustProxy, true);
  assert.deepEqual(c.urlSecret(), createHash('sha256').update('hunter2').digest());
  assert.equal(c.urlSecretRandom, false);
  assert.equal(c.webhookSecret, 'whsec');
});

test('every flag is read', () => {
  const c = run([
    '--host', '::1', '--port=0', '--log-level', 'warn', '--log-format', 'json',
    '--root-path', 'proxy', '--public-url', 'http://h:8080/base/',
  ]);
  assert.equal(c.host, '::1');
  assert.equal(c.port, 0);
  assert.equal(c.logLevel, 'warn');
  assert.equal(c.logFormat, 'json');
  assert.equal(c.rootPath, '/proxy');
  assert.equal(c.publicUrl, 'http://h:8080/base');
});

test('--debug sets the debug level, even over --log-level', () => {
  assert.equal(run(['--debug']).logLevel, 'debug');
  assert.equal(run(['--log-level', 'error', '--debug'], { LOG_LEVEL: 'warn' }).logLevel, 'debug');
});

test('precedence: flags win over env, env wins over .env, .env over defaults', () => {
  const dotenv = 'PORT=7000\nHOST=10.0.0.1\nLOG_FORMAT=json\n';
  const env = { PORT: '8000', HOST: '10.0.0.2' };
  const c = run(['--port', '9000'], env, dotenv);
  assert.equal(c.port, 9000, 'flag');
  assert.equal(c.host, '10.0.0.2', 'env');
  assert.equal(c.logFormat, 'json', '.env');
  assert.equal(run([], {}, dotenv).port, 7000);
});

test('aliases: M3U_PROXY_HOST / M3U_PROXY_PORT, stronger than HOST / PORT, also in .env', () => {
  assert.equal(run([], { M3U_PROXY_HOST: '1.2.3.4' }).host, '1.2.3.4');
  assert.equal(run([], { M3U_PROXY_PORT: '8123' }).port, 8123);
  assert.equal(run([], { M3U_PROXY_PORT: '8123', PORT: '3000' }).port, 8123);
  assert.equal(run([], { HOST: 'h1', M3U_PROXY_HOST: 'h2' }).host, 'h2');
  assert.equal(run([], {}, 'M3U_PROXY_PORT=8124').port, 8124);
  // The environment's bare name still beats the .env file's alias: layers first, names second.
  assert.equal(run([], { PORT: '3001' }, 'M3U_PROXY_PORT=8124').port, 3001);
});

test('an empty value counts as unset', () => {
  const c = run([], { API_TOKEN: '', PORT: '', URL_SECRET: '', WEBHOOK_SECRET: '', ROOT_PATH: '' }, 'PORT=7001');
  assert.equal(c.apiToken, undefined);
  assert.equal(c.port, 7001, 'falls through to .env');
  assert.equal(c.urlSecretRandom, true);
  assert.equal(c.webhookSecret, undefined);
  assert.equal(c.rootPath, '');
});

test('LOG_LEVEL is case-insensitive and accepts the reference Python names', () => {
  assert.equal(run([], { LOG_LEVEL: 'INFO' }).logLevel, 'info');
  assert.equal(run([], { LOG_LEVEL: 'Debug' }).logLevel, 'debug');
  assert.equal(run([], { LOG_LEVEL: 'WARNING' }).logLevel, 'warn');
  assert.equal(run([], { LOG_LEVEL: 'CRITICAL' }).logLevel, 'error');
  assert.equal(run([], { LOG_FORMAT: 'JSON' }).logFormat, 'json');
  configError(() => run([], { LOG_LEVEL: 'loud' }), /^invalid LOG_LEVEL 'loud'/);
  configError(() => run([], { LOG_FORMAT: 'xml' }), /^invalid LOG_FORMAT 'xml'/);
});

test('ROOT_PATH is normalised and bad characters are refused', () => {
  const cases: Array<[string, string]> = [['/', ''], ['/m3u-proxy/', '/m3u-proxy'], ['m3u', '/m3u'], ['/a/b//', '/a/b'], [' /x ', '/x']];
  for (const [input, want] of cases) assert.equal(run([], { ROOT_PATH: input }).rootPath, want, input);
  assert.equal(run(['--root-path', ''], { ROOT_PATH: '/env' }).rootPath, '', 'an explicit empty flag wins');
  for (const bad of ['/a b', '/a?x', '/../etc', '/a//b', '/a#b', '/ü']) {
    configError(() => run([], { ROOT_PATH: bad }), /^invalid ROOT_PATH/);
  }
});

test('PUBLIC_URL must be absolute http(s); the trailing slash is stripped', () => {
  assert.equal(run([], { PUBLIC_URL: 'https://tv.example.com/' }).publicUrl, 'https://tv.example.com');
  assert.equal(run([], { PUBLIC_URL: 'HTTP://TV.example.com:8080/p/' }).publicUrl, 'http://tv.example.com:8080/p');
  for (const bad of ['tv.example.com', 'ftp://x/', '/relative', 'https://x/?q=1', 'https://u:p@x/']) {
    configError(() => run([], { PUBLIC_URL: bad }), /^invalid PUBLIC_URL/);
  }
});

test('timeouts: positive seconds, fractional allowed, converted to ms', () => {
  const names: Array<[string, keyof Config]> = [
    ['CLIENT_TIMEOUT', 'clientTimeoutMs'],
    ['STREAM_TIMEOUT', 'streamTimeoutMs'],
    ['CLEANUP_INTERVAL', 'cleanupIntervalMs'],
    ['DEFAULT_CONNECTION_TIMEOUT', 'connectTimeoutMs'],
    ['DEFAULT_READ_TIMEOUT', 'readTimeoutMs'],
  ];
  for (const [name, field] of names) {
    assert.equal(run([], { [name]: '1.5' })[field], 1500, name);
    assert.equal(run([], { [name]: '.5' })[field], 500, name);
    assert.equal(run([], { [name]: '0.0001' })[field], 1, `${name}: never 0 ms`);
    configError(() => run([], { [name]: '-5' }), new RegExp(`^invalid ${name} '-5': must be a positive number`));
    configError(() => run([], { [name]: '0' }), new RegExp(`^invalid ${name} '0': must be greater than 0`));
    configError(() => run([], { [name]: 'soon' }), new RegExp(`^invalid ${name} 'soon'`));
    configError(() => run([], { [name]: '9999999999' }), new RegExp(`^invalid ${name} .*at most`));
  }
});

test('DNS_CACHE_TTL: seconds, 60 by default, 0 turns the cache off', () => {
  assert.equal(run([], {}).dnsCacheTtlMs, 60_000);
  assert.equal(run([], { DNS_CACHE_TTL: '5' }).dnsCacheTtlMs, 5_000);
  assert.equal(run([], { DNS_CACHE_TTL: '0.5' }).dnsCacheTtlMs, 500);
  for (const off of ['0', ' 0 ', '0.0', '00']) assert.equal(run([], { DNS_CACHE_TTL: off }).dnsCacheTtlMs, 0, off);
  for (const bad of ['-1', 'soon', '1e3']) configError(() => run([], { DNS_CACHE_TTL: bad }), /^invalid DNS_CACHE_TTL/);
});

test('DEFAULT_MAX_RETRIES is an integer >= 1', () => {
  assert.equal(run([], { DEFAULT_MAX_RETRIES: '1' }).maxRetries, 1);
  for (const bad of ['0', '-1', '2.5', 'many']) configError(() => run([], { DEFAULT_MAX_RETRIES: bad }), /^invalid DEFAULT_MAX_RETRIES/);
});

test('TRUST_PROXY accepts private and true/false/1/0/yes/no in any case', () => {
  for (const v of ['private', 'PRIVATE', ' Private ']) assert.equal(run([], { TRUST_PROXY: v }).trustProxy, 'private', v);
  for (const v of ['true', 'TRUE', '1', 'yes', 'Yes', 'on']) assert.equal(run([], { TRUST_PROXY: v }).trustProxy, true, v);
  for (const v of ['false', 'False', '0', 'no', 'off']) assert.equal(run([], { TRUST_PROXY: v }).trustProxy, false, v);
  configError(() => run([], { TRUST_PROXY: 'maybe' }), /^invalid TRUST_PROXY 'maybe'/);
});

test('CORS_ORIGINS are origins, ALLOWED_HOSTS host names; both comma-separated', () => {
  const c = run([], { CORS_ORIGINS: 'https://Editor.example.com, http://10.0.0.5:8080/', ALLOWED_HOSTS: 'TV.example.com,nas.lan' });
  assert.deepEqual(c.corsOrigins, ['https://editor.example.com', 'http://10.0.0.5:8080']);
  assert.deepEqual(c.allowedHosts, ['tv.example.com', 'nas.lan']);
  for (const bad of ['editor.example.com', 'https://e.example.com/path', 'ftp://e.example.com', 'https://e.example.com?q=1']) {
    configError(() => run([], { CORS_ORIGINS: bad }), /^invalid CORS_ORIGINS/);
  }
  configError(() => run([], { ALLOWED_HOSTS: 'a b' }), /^invalid ALLOWED_HOSTS/);
  configError(() => run([], { ALLOWED_HOSTS: 'h:80' }), /^invalid ALLOWED_HOSTS/);
});

test('URL_SECRET: the same secret gives the same key; unset gives a fresh random key', () => {
  const a = run([], { URL_SECRET: 'shared' });
  const b = run([], {}, 'URL_SECRET=shared');
  assert.deepEqual(a.urlSecret(), b.urlSecret());
  assert.equal(a.urlSecret().length, 32);
  assert.notDeepEqual(run().urlSecret(), run().urlSecret());
});

test('port errors name the variable or flag and the bad value', () => {
  configError(() => run([], { PORT: 'abc' }), /^invalid PORT 'abc': must be an integer from 0 to 65535$/);
  configError(() => run([], { PORT: '70000' }), /^invalid PORT '70000'/);
  configError(() => run([], { M3U_PROXY_PORT: '80.5' }), /^invalid M3U_PROXY_PORT '80.5'/);
  configError(() => run(['--port', 'abc']), /^invalid --port 'abc'/);
  configError(() => run([], {}, 'PORT=-1'), /^invalid PORT in \.env '-1'/);
  configError(() => run([], { HOST: 'a b' }), /^invalid HOST 'a b'/);
});

test('flag errors: unknown flag, missing value, stray argument', () => {
  configError(() => run(['--prot', '1']), /^unknown option '--prot'/);
  configError(() => run(['-x']), /^unknown option '-x'/);
  configError(() => run(['--port']), /--port/);
  configError(() => run(['--port', '-1']), /^option '--port' needs a value/);
  configError(() => run(['serve']), /^unknown command 'serve'/);
});

test('secrets are never echoed in errors', () => {
  // Secrets accept any string today; this guards the message format should validation ever be added.
  const dotenvBad = 'API_TOKEN="s3cret\n';
  const msg = configError(() => run([], {}, dotenvBad), /unterminated/);
  assert.ok(!msg.includes('s3cret'));
  const c = run([], { API_TOKEN: 's3cret', URL_SECRET: 'u', WEBHOOK_SECRET: 'w' });
  assert.equal(c.apiToken, 's3cret');
});

test('parseDotenv: KEY=VALUE, comments, quotes, export prefix, CRLF, BOM', () => {
  const text = [
    '\uFEFF# a comment',
    '',
    'PLAIN=value',
    'SPACED = padded value   ',
    'export EXPORTED=yes',
    'INLINE=abc # trailing comment',
    'HASH=a#b',
    "SINGLE='raw \\n $x # not a comment'",
    'DOUBLE="line1\\nline2 \\"q\\" # kept"  # comment',
    'EMPTY=',
    'EQUALS=a=b=c',
    'MULTI="first',
    'second"',
    'CRLF=yes\r',
  ].join('\n');
  assert.deepEqual(parseDotenv(text), {
    PLAIN: 'value',
    SPACED: 'padded value',
    EXPORTED: 'yes',
    INLINE: 'abc',
    HASH: 'a#b',
    SINGLE: 'raw \\n $x # not a comment',
    DOUBLE: 'line1\nline2 "q" # kept',
    EMPTY: '',
    EQUALS: 'a=b=c',
    MULTI: 'first\nsecond',
    CRLF: 'yes',
  });
  assert.deepEqual(parseDotenv(''), {});
});

test('parseDotenv: malformed lines stop start-up with the line number', () => {
  configError(() => parseDotenv('OK=1\nnot a pair\n'), /^\.env line 2: expected KEY=VALUE$/);
  configError(() => parseDotenv("A='open"), /^\.env line 1: unterminated ' quote for A$/);
  configError(() => parseDotenv('A="x" junk'), /^\.env line 1: unexpected text/);
});

test('.env keys that are not settings are ignored', () => {
  assert.equal(run([], {}, 'UNRELATED=1\nPORT=7002').port, 7002);
});

test('--help lists every flag and environment variable with its default', () => {
  for (const argv of [['--help'], ['-h'], ['--port', 'abc', '--help']]) {
    const cmd = parseServerArgs(argv, {});
    assert.equal(cmd.kind, 'help');
    if (cmd.kind !== 'help') return;
    for (const word of [
      '--host', '--port', '--log-level', '--debug', '--log-format', '--root-path', '--public-url', '--help', '--version',
      'M3U_PROXY_HOST', 'M3U_PROXY_PORT', 'LOG_LEVEL', 'LOG_FORMAT', 'API_TOKEN', 'ROOT_PATH', 'PUBLIC_URL', 'CLIENT_TIMEOUT',
      'STREAM_TIMEOUT', 'CLEANUP_INTERVAL', 'DEFAULT_CONNECTION_TIMEOUT', 'DEFAULT_READ_TIMEOUT', 'DEFAULT_MAX_RETRIES',
      'DEFAULT_USER_AGENT', 'TRUST_PROXY', 'URL_SECRET', 'WEBHOOK_SECRET', 'DNS_CACHE_TTL', '8085', '0.0.0.0', '300',
    ]) {
      assert.ok(cmd.text.includes(word), `--help mentions ${word}`);
    }
  }
});

test('--version prints VERSION, which equals package.json', () => {
  for (const argv of [['--version'], ['-v']]) {
    const cmd = parseServerArgs(argv, {});
    assert.deepEqual(cmd, { kind: 'version', text: `m3u-proxy ${VERSION}` });
  }
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(VERSION, pkg.version);
});

test('STATE_FILE (SPEC §2, §12): ./data/state.json by default; an empty value, even in the environment, means memory only', () => {
  assert.equal(run().stateFile, './data/state.json');
  assert.equal(run([], { STATE_FILE: '/var/lib/m3u-proxy/state.json' }).stateFile, '/var/lib/m3u-proxy/state.json');
  assert.equal(run([], { STATE_FILE: '' }).stateFile, undefined);
  assert.equal(run([], {}, 'STATE_FILE=\n').stateFile, undefined);
  assert.equal(run(['--state-file', 'x.json'], { STATE_FILE: '' }).stateFile, 'x.json');
  assert.equal(run(['--state-file='], { STATE_FILE: 'y.json' }).stateFile, undefined);
  const help = parseServerArgs(['--help'], {});
  assert.ok(help.kind === 'help' && /--state-file V\s+STATE_FILE/.test(help.text));
});

test('HLS_SEGMENT_CACHE_MB: 64 MiB by default, 0 turns the cache off, anything else is refused', () => {
  assert.equal(run().hlsSegmentCacheBytes, 64 * 1024 * 1024);
  assert.equal(run([], { HLS_SEGMENT_CACHE_MB: '0' }).hlsSegmentCacheBytes, 0);
  assert.equal(run([], { HLS_SEGMENT_CACHE_MB: '256' }).hlsSegmentCacheBytes, 256 * 1024 * 1024);
  for (const bad of ['-1', '1.5', 'lots']) assert.throws(() => parseServerArgs([], { HLS_SEGMENT_CACHE_MB: bad }), /HLS_SEGMENT_CACHE_MB/);
});

test('SHARE_LIVE_UPSTREAM: true by default, false/0 turn it off, anything else is a start-up error', () => {
  assert.equal(run().shareLiveUpstream, true);
  assert.equal(run([], { SHARE_LIVE_UPSTREAM: 'false' }).shareLiveUpstream, false);
  assert.equal(run([], { SHARE_LIVE_UPSTREAM: '0' }).shareLiveUpstream, false);
  assert.equal(run([], {}, 'SHARE_LIVE_UPSTREAM=1').shareLiveUpstream, true);
  configError(() => run([], { SHARE_LIVE_UPSTREAM: 'sometimes' }), /SHARE_LIVE_UPSTREAM/);
});

test('issue 14.3: HLS_MAX_PLAYLIST_LINES / HLS_MAX_PLAYLIST_BYTES default to 200,000 lines and 32 MiB; positive integers only', () => {
  const c = run();
  assert.equal(c.hlsMaxPlaylistLines, 200_000);
  assert.equal(c.hlsMaxPlaylistBytes, 32 * 1024 * 1024);
  const set = run([], { HLS_MAX_PLAYLIST_LINES: '5000', HLS_MAX_PLAYLIST_BYTES: '1048576' });
  assert.equal(set.hlsMaxPlaylistLines, 5000);
  assert.equal(set.hlsMaxPlaylistBytes, 1_048_576);
  for (const name of ['HLS_MAX_PLAYLIST_LINES', 'HLS_MAX_PLAYLIST_BYTES']) {
    for (const bad of ['0', '-1', '1.5', 'lots']) configError(() => run([], { [name]: bad }), new RegExp(`^invalid ${name} '${bad.replace('.', '\\.')}': must be a positive integer$`));
  }
});

test('HOST: an IP address (IPv6 with or without brackets) or a host name; a port or a scheme is a start-up error', () => {
  assert.equal(run([], { HOST: '0.0.0.0' }).host, '0.0.0.0');
  assert.equal(run([], { HOST: '[::]' }).host, '::');
  assert.equal(run([], { HOST: '::1' }).host, '::1');
  assert.equal(run([], { HOST: 'm3u-proxy.lan' }).host, 'm3u-proxy.lan');
  for (const bad of ['0.0.0.0:8085', 'http://localhost', 'localhost/x', 'a b']) configError(() => run([], { HOST: bad }), /HOST/);
});

test('HW_ACCEL_AVAILABLE reads as every other switch; HW_ACCEL_TYPE is vaapi or nvidia; anything else is a start-up error', () => {
  assert.equal(run([], { HW_ACCEL_AVAILABLE: 'yes' }).transcode?.hwAccel?.available, 'true');
  assert.equal(run([], { HW_ACCEL_AVAILABLE: 'off' }).transcode?.hwAccel?.available, 'false');
  assert.equal(run([], {}).transcode?.hwAccel?.available, undefined, 'unset: detected');
  assert.equal(run([], { HW_ACCEL_TYPE: 'NVIDIA' }).transcode?.hwAccel?.type, 'nvidia');
  configError(() => run([], { HW_ACCEL_AVAILABLE: 'bogus' }), /HW_ACCEL_AVAILABLE/);
  configError(() => run([], { HW_ACCEL_TYPE: 'qsv' }), /HW_ACCEL_TYPE/);
});
