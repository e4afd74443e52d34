// Starts the real app on 127.0.0.1:0 with a test Config and registers its teardown before it is used.
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { createApp, type App } from '../../src/app.ts';
import { DEFAULT_HLS_MAX_PLAYLIST_BYTES, DEFAULT_HLS_MAX_PLAYLIST_LINES, DEFAULT_USER_AGENT, type Config } from '../../src/config.ts';
import { createLogger, silentLogger, type Logger } from '../../src/log.ts';

export function testConfig(overrides: Partial<Config> = {}): Config {
  const secret = randomBytes(32);
  return {
    host: '127.0.0.1',
    port: 0,
    logLevel: 'error',
    logFormat: 'text',
    apiToken: undefined,
    rootPath: '',
    publicUrl: undefined,
    clientTimeoutMs: 30_000,
    streamTimeoutMs: 300_000,
    cleanupIntervalMs: 60_000,
    defaultUserAgent: DEFAULT_USER_AGENT,
    connectTimeoutMs: 2_000,
    readTimeoutMs: 2_000,
    dnsCacheTtlMs: 60_000,
    maxRetries: 2,
    trustProxy: false,
    corsOrigins: [],
    allowedHosts: [],
    urlSecret: () => secret,
    urlSecretRandom: true,
    webhookSecret: undefined,
    maxClientsPerStream: 1000,
    maxClients: 10_000,
    webhookQueueSize: 10_000,
    // Memory only: a test that wants durable state passes a store of its own (tests never write ./data in the repo).
    stateFile: undefined,
    shareLiveUpstream: true,
    hlsMaxPlaylistLines: DEFAULT_HLS_MAX_PLAYLIST_LINES,
    hlsMaxPlaylistBytes: DEFAULT_HLS_MAX_PLAYLIST_BYTES,
    shareQueueBytes: 4 * 1024 * 1024,
    ffmpegPath: 'ffmpeg',
    ffprobePath: 'ffprobe',
    broadcastDir: join(tmpdir(), `m3u-proxy-test-broadcasts-${process.pid}`),
    dvrDir: join(tmpdir(), `m3u-proxy-test-dvr-${process.pid}`),
    broadcastAllowedDirs: [],
    broadcastStartGraceMs: 3000,
    broadcastCallbackTimeoutMs: 3000,
    broadcastMaxStartRetries: 3,
    broadcastStartRetryWindowMs: 300_000,
    broadcastStartRetryCooldownMs: 15_000,
    broadcastGcAgeMs: 3_600_000,
    ...overrides,
  };
}

export interface RunningProxy {
  app: App;
  port: number;
  /** http://127.0.0.1:port (with ROOT_PATH when set). */
  base: string;
}

/** Set M3U_TEST_LOG=debug to see the proxy's logs while a test runs. */
function testLogger(): Logger {
  const level = process.env['M3U_TEST_LOG'];
  return level === 'debug' || level === 'info' ? createLogger({ level, format: 'text' }) : silentLogger;
}

export async function startProxy(t: TestContext, overrides: Partial<Config> = {}, logger: Logger = testLogger()): Promise<RunningProxy> {
  const app = createApp(testConfig(overrides), { logger });
  t.after(() => app.close(100));
  const port = await app.listen(0, '127.0.0.1');
  return { app, port, base: `http://127.0.0.1:${port}${app.config.rootPath}` };
}

export interface JsonResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

/** A small fetch wrapper for JSON APIs: always reads the body so no socket is left half-read. */
export async function api(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await fetch(base + path, init);
  const text = await res.text();
  let parsed: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed };
}
