// Configuration: the Config type and its defaults, merged from .env, the environment and flags (SPEC §2); frozen once built.
// NOTE: parsing is being written (see loadConfig below); the type is the contract other modules rely on.
import type { LogFormat, LogLevel } from './log.ts';

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
  /** Rounds over all URLs without a byte before a player connection gives up. */
  readonly maxRetries: number;
  readonly trustProxy: boolean;
  /** 32-byte key for playback tokens. */
  readonly urlSecret: Buffer;
  /** True when URL_SECRET was not set and the key is random for this process. */
  readonly urlSecretRandom: boolean;
  /** HMAC key for webhook signatures, or undefined. */
  readonly webhookSecret: string | undefined;
}

export const DEFAULT_USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/115.0.0.0 Safari/537.36';
