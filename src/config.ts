// Configuration: the Config type and its defaults, merged from .env, the environment and flags (SPEC §2); frozen once built.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  parseBool,
  parseCluster,
  parseDir,
  parseDirList,
  parseCount,
  parseHost,
  parseHostList,
  parseLogFormat,
  parseLogLevel,
  parseMebibytes,
  parseOrigins,
  parsePort,
  parsePublicUrl,
  parseQueueBytes,
  parseRetries,
  parseRootPath,
  parseStateFile,
  parseTrustProxy,
  type Raw,
  type TrustProxy,
  urlSecretKey,
  parseHwAccelType,
} from './config-values.ts';
import { readFlags } from './server-flags.ts';
import { parseDotenv } from './dotenv.ts';
import { DEFAULT_TRANSCODE_CONFIG, hlsBaseDir, parseProcessLimit, type TranscodeConfig } from './config-transcode.ts';
import { ConfigError } from './errors.ts';
import type { LogFormat, LogLevel } from './log.ts';

export type { TrustProxy } from './config-values.ts';
export { parseDotenv } from './dotenv.ts';

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** undefined when API_TOKEN is unset or empty: management endpoints are open. */
  readonly apiToken: string | undefined;
  /** '' or a path starting with '/' and not ending with '/', e.g. '/m3u-proxy'. */
  readonly rootPath: string;
  /** Absolute http(s) base without trailing slash, or undefined: playlist URLs are then root-relative. */
  readonly publicUrl: string | undefined;
  readonly clientTimeoutMs: number;
  readonly streamTimeoutMs: number;
  readonly cleanupIntervalMs: number;
  readonly defaultUserAgent: string;
  /** Upstream connect + response-headers timeout. */
  readonly connectTimeoutMs: number;
  /** Upstream idle-read (stall) timeout. */
  readonly readTimeoutMs: number;
  /** How long a provider host name's addresses are reused for new upstream sockets; 0: resolved for every one. */
  readonly dnsCacheTtlMs: number;
  /** Rounds over all URLs without a byte before a player connection gives up. */
  readonly maxRetries: number;
  /** Whose X-Forwarded-* headers count (SPEC §2): every peer (true), none (false), or peers on private addresses. */
  readonly trustProxy: TrustProxy;
  /** Origins whose pages may call the management API (CORS); empty: none (SPEC §4). */
  readonly corsOrigins: readonly string[];
  /** Host names, lower case, on which an unauthenticated management API answers beside IPs and single labels (SPEC §4). */
  readonly allowedHosts: readonly string[];
  /**
   * 32-byte key for playback tokens, made at its first call: node:crypto, which the bundle loads at its first use
   * (bin/lazy-builtins.ts), then stays out of a server that never seals a token (~1.5 MiB of idle RSS, issue 24.7).
   */
  readonly urlSecret: () => Buffer;
  /** True when URL_SECRET was not set and the key is random for this process. */
  readonly urlSecretRandom: boolean;
  /** HMAC key for webhook signatures, or undefined. */
  readonly webhookSecret: string | undefined;
  /** Client records kept per stream / in all; past them the least recently active HLS client is evicted (issue 14). */
  readonly maxClientsPerStream: number;
  readonly maxClients: number;
  /** Events waiting per webhook before the oldest are dropped. */
  readonly webhookQueueSize: number;
  /** Where streams, webhooks and a generated URL_SECRET are kept (SPEC §12); undefined: memory only. */
  readonly stateFile: string | undefined;
  /** Bytes of recent HLS segments kept for a stream's other viewers (0: none); default 64 MiB. */
  readonly hlsSegmentCacheBytes?: number;
  /** SPEC §5.5: the default of a stream's share_upstream. */
  readonly shareLiveUpstream: boolean;
  /** Lines one rewritten playlist may have before it is cut (issue 14.3). */
  readonly hlsMaxPlaylistLines: number;
  /** Bytes (decoded) one rewritten playlist may have before it is cut (issue 14.3). */
  readonly hlsMaxPlaylistBytes: number;
  /** SPEC §5.5: bytes a shared live stream keeps behind its live edge; a viewer further behind jumps. */
  readonly shareQueueBytes: number;
  /** SPEC §13/§14: the FFmpeg program (name on PATH or a path). */
  readonly ffmpegPath: string;
  /** ffprobe, for a broadcast's preferred_audio_language given as a language. */
  readonly ffprobePath: string;
  /** SPEC §14: broadcast_<id> directories go here; DVR recordings under dvrDir; output_dir only if listed. */
  readonly broadcastDir: string;
  readonly dvrDir: string;
  readonly broadcastAllowedDirs: readonly string[];
  /** A broadcast FFmpeg that fails within this time answers the start with 500 instead of a callback. */
  readonly broadcastStartGraceMs: number;
  readonly broadcastCallbackTimeoutMs: number;
  /** The reference's start-retry limit: failed starts of one network in a window, then a cool-down. */
  readonly broadcastMaxStartRetries: number;
  readonly broadcastStartRetryWindowMs: number;
  readonly broadcastStartRetryCooldownMs: number;
  /** Abandoned broadcast_<id> directories idle this long are removed (undefined: BROADCAST_GC_ENABLED=false). */
  readonly broadcastGcAgeMs: number | undefined;
  /** SPEC §13: programs, limits and directories of transcoding; absent: DEFAULT_TRANSCODE_CONFIG. */
  readonly transcode?: TranscodeConfig;
  /** SPEC §16 (issue 25): cluster mode when set; undefined: one node, in-process (the default). */
  readonly cluster?: ClusterConfig;
}

/** SPEC §16: several nodes sharing one Redis. */
export interface ClusterConfig {
  /** CLUSTER_REDIS_URL: redis://[:password@]host:port/db or rediss:// for TLS. */
  readonly redisUrl: string;
  /** CLUSTER_SECRET: the bearer secret of the internal relay route, the same on every node. */
  readonly secret: string;
  /** CLUSTER_NODE_URL: how the other nodes reach this one (no trailing slash); undefined: http://HOST:PORT. */
  readonly nodeUrl: string | undefined;
  /** CLUSTER_LEASE_TTL: a channel lease's expiry; renewed every third of it. */
  readonly leaseTtlMs: number;
}

/** The program version; a TS constant because the single executable cannot read package.json (a unit test keeps them equal). */
export const VERSION = '1.0.0';

/** TRUST_PROXY: `true` any peer, `false` none, `'private'` loopback, private and unique-local peers. */

export const DEFAULT_USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/115.0.0.0 Safari/537.36';

/** SPEC §2: relative to the working directory; the container and the systemd unit point it into their volumes. */
export const DEFAULT_STATE_FILE = './data/state.json';
/** Issue 14.3: far above any real playlist (a 24 h VOD of 1 s segments is ~170,000 lines), far below harm. */
export const DEFAULT_HLS_MAX_PLAYLIST_LINES = 200_000;
export const DEFAULT_HLS_MAX_PLAYLIST_BYTES = 32 * 1024 * 1024;

export type StartCommand = { kind: 'run'; config: Config } | { kind: 'help'; text: string } | { kind: 'version'; text: string };

interface OptionSpec {
  /** Long flag without the dashes; absent for env-only settings. */
  readonly flag?: string;
  /** Environment names, strongest first (the prefixed alias beats the bare name: it cannot be set by accident). */
  readonly env: readonly string[];
  readonly def: string;
  readonly help: string;
  /** Never echoed in an error message. */
  readonly secret?: boolean;
}

/** The one table of settings: parsing, precedence and --help are all driven by it. */
const OPTIONS = {
  host: { flag: 'host', env: ['M3U_PROXY_HOST', 'HOST'], def: '0.0.0.0', help: 'bind address' },
  port: { flag: 'port', env: ['M3U_PROXY_PORT', 'PORT'], def: '8085', help: 'bind port (0: any free port)' },
  logLevel: { flag: 'log-level', env: ['LOG_LEVEL'], def: 'info', help: 'error, warn, info or debug (any case)' },
  logFormat: { flag: 'log-format', env: ['LOG_FORMAT'], def: 'text', help: 'text or json (one JSON object per line)' },
  apiToken: { env: ['API_TOKEN'], def: 'unset', help: 'token the management API requires (X-API-Token)', secret: true },
  rootPath: { flag: 'root-path', env: ['ROOT_PATH'], def: '""', help: 'prefix for every route, e.g. /m3u-proxy' },
  publicUrl: { flag: 'public-url', env: ['PUBLIC_URL'], def: 'unset', help: 'absolute http(s) base for rewritten playlist URLs' },
  clientTimeout: { env: ['CLIENT_TIMEOUT'], def: '30', help: 'seconds without a request before an HLS client is gone' },
  streamTimeout: { env: ['STREAM_TIMEOUT'], def: '300', help: 'seconds an idle stream with no clients is kept' },
  cleanupInterval: { env: ['CLEANUP_INTERVAL'], def: '60', help: 'sweeper period, seconds' },
  userAgent: { env: ['DEFAULT_USER_AGENT'], def: 'Chrome 115', help: 'upstream User-Agent when a stream sets none' },
  connectTimeout: { env: ['DEFAULT_CONNECTION_TIMEOUT'], def: '10', help: 'upstream connect + response headers, seconds' },
  readTimeout: { env: ['DEFAULT_READ_TIMEOUT'], def: '30', help: 'upstream idle-read (stall) timeout, seconds' },
  dnsCacheTtl: { env: ['DNS_CACHE_TTL'], def: '60', help: 'seconds a provider host name\'s addresses are reused for new connections (0: resolve every time)' },
  maxRetries: { env: ['DEFAULT_MAX_RETRIES'], def: '3', help: 'rounds over all URLs without a byte before giving up' },
  trustProxy: { env: ['TRUST_PROXY'], def: 'private', help: "whose X-Forwarded-For/-Proto/-Host count: private (peers on private addresses), true or false" },
  corsOrigins: { env: ['CORS_ORIGINS'], def: 'unset', help: 'comma-separated origins whose pages may call the management API' },
  allowedHosts: { env: ['ALLOWED_HOSTS'], def: 'unset', help: 'comma-separated host names the API answers without API_TOKEN (beside IPs, localhost, single labels)' },
  urlSecret: { env: ['URL_SECRET'], def: 'generated', help: 'key for playback URLs; when unset, generated once and kept in the state file', secret: true },
  webhookSecret: { env: ['WEBHOOK_SECRET'], def: 'unset', help: 'HMAC-SHA256 key for X-M3U-Proxy-Signature', secret: true },
  maxClientsPerStream: { env: ['MAX_CLIENTS_PER_STREAM'], def: '1000', help: 'client records per stream; past it idle HLS clients are evicted' },
  maxClients: { env: ['MAX_CLIENTS'], def: '10000', help: 'client records in all; past it idle HLS clients are evicted' },
  webhookQueueSize: { env: ['WEBHOOK_QUEUE_SIZE'], def: '10000', help: 'events waiting per webhook before the oldest are dropped' },
  stateFile: { flag: 'state-file', env: ['STATE_FILE'], def: DEFAULT_STATE_FILE, help: 'streams, webhooks and URL_SECRET kept across restarts; empty: memory only' },
  hlsSegmentCache: { env: ['HLS_SEGMENT_CACHE_MB'], def: '64', help: 'MiB of recent HLS segments shared by viewers (0: off)' },
  shareLiveUpstream: { env: ['SHARE_LIVE_UPSTREAM'], def: 'true', help: 'live streams share one upstream per stream (a stream\'s share_upstream wins)' },
  hlsMaxPlaylistLines: { env: ['HLS_MAX_PLAYLIST_LINES'], def: '200000', help: 'lines one HLS playlist may have before it is cut' },
  hlsMaxPlaylistBytes: { env: ['HLS_MAX_PLAYLIST_BYTES'], def: '33554432', help: 'bytes one HLS playlist may have before it is cut (32 MiB)' },
  ffmpegPath: { env: ['FFMPEG_PATH'], def: 'ffmpeg', help: 'the FFmpeg program (transcodes and broadcasts; a name on PATH or a path)' },
  ffprobePath: { env: ['FFPROBE_PATH'], def: 'ffprobe', help: 'the ffprobe program (broadcast audio language and subtitles)' },
  broadcastDir: { env: ['HLS_BROADCAST_DIR'], def: '<tmp>/m3u-proxy-broadcasts', help: 'where broadcast_<network_id> directories are written' },
  dvrDir: { env: ['DVR_RECORDING_DIR'], def: '<tmp>/m3u-proxy-dvr', help: 'where dvr_mode broadcasts are written' },
  broadcastAllowedDirs: { env: ['BROADCAST_ALLOWED_DIRS'], def: 'unset', help: 'comma-separated absolute directories a broadcast output_dir may name' },
  broadcastStartGrace: { env: ['BROADCAST_START_FAILURE_GRACE'], def: '3', help: 'seconds a broadcast start waits for FFmpeg to fail before answering' },
  broadcastCallbackTimeout: { env: ['BROADCAST_CALLBACK_TIMEOUT'], def: '3', help: 'seconds a broadcast callback may take (not retried on timeout)' },
  clusterRedisUrl: { env: ['CLUSTER_REDIS_URL'], def: 'unset', help: 'redis:// or rediss:// URL shared by several nodes (SPEC §16); unset: one node', secret: true },
  clusterSecret: { env: ['CLUSTER_SECRET'], def: 'unset', help: 'secret the nodes of a cluster authenticate relays with (required with CLUSTER_REDIS_URL)', secret: true },
  clusterNodeUrl: { env: ['CLUSTER_NODE_URL'], def: 'http://HOST:PORT', help: 'base URL other nodes reach this node at' },
  clusterLeaseTtl: { env: ['CLUSTER_LEASE_TTL'], def: '10', help: 'seconds a channel lease lasts without renewal (cluster mode)' },
  broadcastMaxStartRetries: { env: ['BROADCAST_MAX_START_RETRIES'], def: '3', help: 'failed starts of one network within the window before starts are refused' },
  broadcastStartRetryWindow: { env: ['BROADCAST_START_RETRY_WINDOW'], def: '300', help: 'seconds over which failed broadcast starts are counted' },
  broadcastStartRetryCooldown: { env: ['BROADCAST_START_RETRY_COOLDOWN'], def: '15', help: 'seconds after its last attempt before a refused network may start again' },
  broadcastGcEnabled: { env: ['BROADCAST_GC_ENABLED'], def: 'true', help: 'remove abandoned broadcast directories at start-up and every CLEANUP_INTERVAL' },
  hlsGcAgeThreshold: { env: ['HLS_GC_AGE_THRESHOLD'], def: '3600', help: 'seconds an unlisted, unread broadcast directory stays idle before removal (DVR: at least a day)' },
  shareQueueBytes: { env: ['SHARE_QUEUE_BYTES'], def: '4194304', help: 'bytes a shared live stream keeps per stream; a viewer further behind jumps to the live edge' },
  // Transcoding and resolvers (SPEC §13).
  streamlinkPath: { env: ['STREAMLINK_PATH'], def: 'streamlink', help: 'the streamlink program' },
  ytdlpPath: { env: ['YTDLP_PATH'], def: 'yt-dlp', help: 'the yt-dlp program' },
  streamlinkEnabled: { env: ['STREAMLINK_ENABLED'], def: 'true', help: 'false: resolver streamlink answers 400' },
  ytdlpEnabled: { env: ['YTDLP_ENABLED'], def: 'true', help: 'false: resolver ytdlp answers 400' },
  transcodeMaxProcesses: { env: ['TRANSCODE_MAX_PROCESSES'], def: '8', help: 'transcode/resolver processes at once (0: no limit); past it 503' },
  transcodeStartTimeout: { env: ['TRANSCODE_START_TIMEOUT'], def: '15', help: 'seconds a new process has to produce its first byte (else 504)' },
  sharedStreamGrace: { env: ['SHARED_STREAM_GRACE'], def: '3', help: 'seconds a transcode outlives its last viewer' },
  hlsTempDir: { env: ['HLS_TEMP_DIR'], def: '<tmp>', help: 'base of the per-stream HLS transcode directories' },
  hlsWaitTime: { env: ['HLS_WAIT_TIME'], def: '10', help: 'seconds a playlist request waits for a new HLS transcode' },
  cookiesDir: { env: ['COOKIES_DIR'], def: 'unset', help: 'the only directory cookies_path may name files in' },
  hwAccelAvailable: { env: ['HW_ACCEL_AVAILABLE'], def: 'detected', help: 'true/false: what /info reports as hardware acceleration, instead of detecting it' },
  hwAccelType: { env: ['HW_ACCEL_TYPE'], def: 'vaapi', help: 'with HW_ACCEL_AVAILABLE=true: vaapi or nvidia' },
  hwAccelDevice: { env: ['HW_ACCEL_DEVICE'], def: 'unset', help: 'with HW_ACCEL_AVAILABLE=true: the device /info names' },
} as const satisfies Record<string, OptionSpec>;

type Key = keyof typeof OPTIONS;

/** Flags that are not settings; shown first in --help. */
const SWITCHES = [
  { flag: 'debug', help: 'same as --log-level debug' },
  { flag: 'help', short: 'h', help: 'show this help and exit' },
  { flag: 'version', short: 'v', help: 'print the version and exit' },
] as const;

/** The settings that have a command-line flag, which takes a value (the CLI skips their values too). */
export const VALUE_FLAGS: readonly string[] = (Object.values(OPTIONS) as OptionSpec[]).flatMap((o) => (o.flag === undefined ? [] : [o.flag]));

/** setTimeout clamps anything larger to 1 ms, so a longer "timeout" would fire at once. */
const MAX_SECONDS = Math.floor(2_147_483_647 / 1000);

export function parseServerArgs(argv: string[], env: Record<string, string | undefined>, dotenvText?: string): StartCommand {
  const flags = readFlags(argv, VALUE_FLAGS, SWITCHES);
  if (flags.has('help')) return { kind: 'help', text: helpText() };
  if (flags.has('version')) return { kind: 'version', text: `m3u-proxy ${VERSION}` };
  const dotenv = dotenvText === undefined ? {} : parseDotenv(dotenvText);

  // Layers, strongest first: flags, the environment, .env. An empty env value counts as unset (compose files pass `X=`).
  // `keepEmpty`: for the one setting where empty is a value (STATE_FILE= means memory only).
  const raw = (key: Key, keepEmpty = false): Raw | undefined => {
    const spec: OptionSpec = OPTIONS[key];
    const flagValue = spec.flag === undefined ? undefined : flags.get(spec.flag);
    if (flagValue !== undefined) return { value: flagValue, from: `--${spec.flag}` };
    for (const name of spec.env) {
      const v = env[name];
      if (v !== undefined && (v !== '' || keepEmpty)) return { value: v, from: name };
    }
    for (const name of spec.env) {
      const v = dotenv[name];
      if (v !== undefined && (v !== '' || keepEmpty)) return { value: v, from: `${name} in .env` };
    }
    return undefined;
  };
  const fail = (key: Key, r: Raw, why: string): never => {
    const spec: OptionSpec = OPTIONS[key];
    throw new ConfigError(spec.secret === true ? `invalid ${r.from}: ${why}` : `invalid ${r.from} '${r.value}': ${why}`);
  };
  const seconds = (key: Key, def: number): number => {
    const r = raw(key);
    if (r === undefined) return def * 1000;
    const v = r.value.trim();
    if (!/^(\d+(\.\d*)?|\.\d+)$/.test(v)) return fail(key, r, 'must be a positive number of seconds');
    const n = Number(v);
    if (n <= 0) return fail(key, r, 'must be greater than 0');
    if (n > MAX_SECONDS) return fail(key, r, `must be at most ${MAX_SECONDS} seconds`);
    return Math.max(1, Math.round(n * 1000));
  };
  const text = (key: Key): string | undefined => raw(key)?.value;
  const count = (key: Key, def: number): number => {
    const r = raw(key);
    if (r === undefined) return def;
    const v = r.value.trim();
    if (!/^\d{1,15}$/.test(v) || Number(v) === 0) return fail(key, r, 'must be a positive integer');
    return Number(v);
  };

  const debug = flags.has('debug');
  const urlSecretRaw = text('urlSecret');
  const config: Config = {
    host: parseHost(raw('host'), (r, why) => fail('host', r, why)),
    port: parsePort(raw('port'), (r, why) => fail('port', r, why)),
    logLevel: debug ? 'debug' : parseLogLevel(raw('logLevel'), (r, why) => fail('logLevel', r, why)),
    logFormat: parseLogFormat(raw('logFormat'), (r, why) => fail('logFormat', r, why)),
    apiToken: text('apiToken'),
    rootPath: parseRootPath(raw('rootPath'), (r, why) => fail('rootPath', r, why)),
    publicUrl: parsePublicUrl(raw('publicUrl'), (r, why) => fail('publicUrl', r, why)),
    clientTimeoutMs: seconds('clientTimeout', 30),
    streamTimeoutMs: seconds('streamTimeout', 300),
    cleanupIntervalMs: seconds('cleanupInterval', 60),
    defaultUserAgent: text('userAgent') ?? DEFAULT_USER_AGENT,
    connectTimeoutMs: seconds('connectTimeout', 10),
    readTimeoutMs: seconds('readTimeout', 30),
    dnsCacheTtlMs: /^0+(\.0*)?$/.test(raw('dnsCacheTtl')?.value.trim() ?? '') ? 0 : seconds('dnsCacheTtl', 60),
    maxRetries: parseRetries(raw('maxRetries'), (r, why) => fail('maxRetries', r, why)),
    trustProxy: parseTrustProxy(raw('trustProxy'), (r, why) => fail('trustProxy', r, why)),
    corsOrigins: parseOrigins(raw('corsOrigins'), (r, why) => fail('corsOrigins', r, why)),
    allowedHosts: parseHostList(raw('allowedHosts'), (r, why) => fail('allowedHosts', r, why)),
    urlSecret: urlSecretKey(urlSecretRaw),
    urlSecretRandom: urlSecretRaw === undefined,
    webhookSecret: text('webhookSecret'),
    maxClientsPerStream: parseCount(raw('maxClientsPerStream'), 1000, (r, why) => fail('maxClientsPerStream', r, why)),
    maxClients: parseCount(raw('maxClients'), 10_000, (r, why) => fail('maxClients', r, why)),
    webhookQueueSize: parseCount(raw('webhookQueueSize'), 10_000, (r, why) => fail('webhookQueueSize', r, why)),
    stateFile: parseStateFile(raw('stateFile', true), DEFAULT_STATE_FILE),
    hlsSegmentCacheBytes: parseMebibytes(raw('hlsSegmentCache'), 64, (r, why) => fail('hlsSegmentCache', r, why)),
    shareLiveUpstream: raw('shareLiveUpstream') === undefined ? true : parseBool(raw('shareLiveUpstream'), (r, why) => fail('shareLiveUpstream', r, why)),
    hlsMaxPlaylistLines: count('hlsMaxPlaylistLines', DEFAULT_HLS_MAX_PLAYLIST_LINES),
    hlsMaxPlaylistBytes: count('hlsMaxPlaylistBytes', DEFAULT_HLS_MAX_PLAYLIST_BYTES),
    shareQueueBytes: parseQueueBytes(raw('shareQueueBytes'), (r, why) => fail('shareQueueBytes', r, why)),
    ffmpegPath: text('ffmpegPath') ?? 'ffmpeg',
    ffprobePath: text('ffprobePath') ?? 'ffprobe',
    broadcastDir: parseDir(raw('broadcastDir'), join(tmpdir(), 'm3u-proxy-broadcasts'), (r, why) => fail('broadcastDir', r, why)),
    dvrDir: parseDir(raw('dvrDir'), join(tmpdir(), 'm3u-proxy-dvr'), (r, why) => fail('dvrDir', r, why)),
    broadcastAllowedDirs: parseDirList(raw('broadcastAllowedDirs'), (r, why) => fail('broadcastAllowedDirs', r, why)),
    broadcastStartGraceMs: seconds('broadcastStartGrace', 3),
    broadcastCallbackTimeoutMs: seconds('broadcastCallbackTimeout', 3),
    broadcastMaxStartRetries: count('broadcastMaxStartRetries', 3),
    broadcastStartRetryWindowMs: seconds('broadcastStartRetryWindow', 300),
    broadcastStartRetryCooldownMs: seconds('broadcastStartRetryCooldown', 15),
    broadcastGcAgeMs: raw('broadcastGcEnabled') === undefined || parseBool(raw('broadcastGcEnabled'), (r, why) => fail('broadcastGcEnabled', r, why))
      ? seconds('hlsGcAgeThreshold', 3600)
      : undefined,
    transcode: {
      ffmpegPath: text('ffmpegPath') ?? DEFAULT_TRANSCODE_CONFIG.ffmpegPath,
      streamlinkPath: text('streamlinkPath') ?? DEFAULT_TRANSCODE_CONFIG.streamlinkPath,
      ytdlpPath: text('ytdlpPath') ?? DEFAULT_TRANSCODE_CONFIG.ytdlpPath,
      streamlinkEnabled: raw('streamlinkEnabled') === undefined || parseBool(raw('streamlinkEnabled'), (r, why) => fail('streamlinkEnabled', r, why)),
      ytdlpEnabled: raw('ytdlpEnabled') === undefined || parseBool(raw('ytdlpEnabled'), (r, why) => fail('ytdlpEnabled', r, why)),
      maxProcesses: parseProcessLimit(raw('transcodeMaxProcesses'), (r, why) => fail('transcodeMaxProcesses', r, why)),
      startTimeoutMs: seconds('transcodeStartTimeout', 15),
      graceMs: seconds('sharedStreamGrace', 3),
      hlsDir: hlsBaseDir(text('hlsTempDir')),
      hlsWaitMs: seconds('hlsWaitTime', 10),
      cookiesDir: text('cookiesDir'),
      hwAccel: {
        // Read as every other switch (yes/on too) and checked here: a typo was a silent fall-back to detection.
        available: raw('hwAccelAvailable') === undefined ? undefined : String(parseBool(raw('hwAccelAvailable'), (r, why) => fail('hwAccelAvailable', r, why))),
        type: parseHwAccelType(raw('hwAccelType'), (r, why) => fail('hwAccelType', r, why)),
        device: text('hwAccelDevice'),
      },
    },
  };
  const clusterRedis = raw('clusterRedisUrl');
  if (clusterRedis !== undefined) {
    Object.assign(config, {
      cluster: parseCluster(clusterRedis, raw('clusterSecret'), raw('clusterNodeUrl'), seconds('clusterLeaseTtl', 10), (r, why) => fail('clusterRedisUrl', r, why)),
    });
  }
  return { kind: 'run', config: Object.freeze(config) };
}

/** --help: generated from the option table so that no setting can be missing from it. */
function helpText(): string {
  const rows: string[][] = [['flag', 'environment', 'default', 'meaning']];
  for (const s of SWITCHES) rows.push(['short' in s ? `-${s.short}, --${s.flag}` : `--${s.flag}`, '', '', s.help]);
  for (const spec of Object.values(OPTIONS) as OptionSpec[]) {
    rows.push([spec.flag === undefined ? '' : `--${spec.flag} V`, spec.env.join(', '), spec.def, spec.help]);
  }
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const table = rows.map((r) => '  ' + r.map((cell, c) => (c < 3 ? cell.padEnd(widths[c] ?? 0) : cell)).join('  ').trimEnd());
  return [
    `m3u-proxy ${VERSION}: IPTV proxy (HLS rewriting, continuous/VOD pass-through with failover)`,
    '',
    'Usage:',
    '  m3u-proxy [options]           run the server',
    '  m3u-proxy <command> [args]    talk to a running server (m3u-proxy help lists the commands)',
    '',
    'Options and environment (flags win over the environment, which wins over .env in the working directory;',
    'the M3U_PROXY_ name wins over the bare one; an empty value counts as unset):',
    ...table,
    '',
    `DEFAULT_USER_AGENT defaults to: ${DEFAULT_USER_AGENT}`,
    'Timeouts are seconds and may be fractional. Invalid values stop start-up with exit code 2.',
  ].join('\n');
}
