// Opaque playback tokens (SPEC §5.4): an upstream URL sealed for one stream, one client and one kind. Playlist tokens
// use AES-256-GCM with a synthetic IV (deterministic); segment tokens, thousands per playlist, use the pooled
// Poly1305-AES construction of token-ctr.ts, which needs no crypto object per token (issue 12 item 7).
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import { BadTokenError } from '../errors.ts';
import type { ByteSink } from './byte-sink.ts';
import { createCtrSealer, CTR_OVERHEAD_BYTES, type CtrSealer } from './token-ctr.ts';
import type { UriKind } from './m3u8/rewrite-context.ts';

export interface TokenFields {
  url: string;
  streamId: string;
  clientId: string;
  /** `p` (playlist) or `s` (segment): sealed in, so a token only opens under its own kind (issue 14 item 1). */
  kind: UriKind;
}

export interface TokenSealer {
  /** Seals the fields under a fresh random IV; memoised, so equal fields give the same token while remembered. */
  seal(fields: TokenFields): string;
  /**
   * Appends to `sink` the token of the segment-kind fields with URL `dir` + `ref`, as base64url bytes: the token
   * seal() gives, with no string made (the hot path of a big playlist). Never memoised.
   */
  sealSegmentInto(sink: ByteSink, streamId: string, clientId: string, dir: string, ref: string): void;
  /**
   * Opens a token for `expectedStreamId` used under `expectedKind`; throws BadTokenError when it was tampered with,
   * is garbage, is foreign, or was sealed for the other kind.
   */
  open(token: string, expectedStreamId: string, expectedKind: UriKind): TokenFields;
}

// Playlist token bytes: VERSION(1) | IV(12) | ciphertext | GCM tag(16), base64url-encoded. Segment token bytes:
// VERSION(1) | IV(16) | ciphertext | Poly1305-AES tag(16) (token-ctr.ts). The route says which kind to expect, so the
// format needs no kind byte; a token opened under the other kind is parsed as the other format and fails to verify.
// Plaintext (both): clientId byte length (u16 BE) | clientId | url. The kind and the stream id are not in the plaintext but
// in the additional data (GCM's, or the hashed aad of token-ctr.ts): they cost no space, and a token sealed for another stream or used under the other kind
// (a variant playlist's p/ token replayed as s/, which would relay the raw upstream playlist) fails authentication.
// Version 2: version 1 tokens did not bind the kind, so they are refused. Version 3: segment tokens changed format
// (Poly1305-AES), so version 2 ones are refused.
const VERSION = 3;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + IV_BYTES;
const MIN_TOKEN_BYTES = HEADER_BYTES + 2 + TAG_BYTES;
const MIN_CTR_TOKEN_BYTES = CTR_OVERHEAD_BYTES + 2;
// A cap on what open() will even decode: a request path is short, and this bounds the work garbage can cause.
const MAX_TOKEN_CHARS = 16_384;
const MAX_CLIENT_ID_BYTES = 0xffff;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
export const DEFAULT_TOKEN_CACHE_SIZE = 50_000;

interface Keys {
  enc: KeyObject;
  /** HMAC key for the synthetic IVs of playlist tokens; independent of `enc` (separate HKDF info). */
  siv: KeyObject;
  /** Segment tokens: AES-256-CTR key and Poly1305 r, both independent of `enc` (separate HKDF info). */
  ctr: CtrSealer;
  /** The GCM additional data for a stream; a playlist seals thousands of tokens for one stream in a row. */
  aad(kind: UriKind, streamId: string): Buffer;
}

// The encryption key from one secret (RFC 5869 HKDF), so the secret itself is never used as an AES key directly.
function deriveKeys(secret: Buffer, poolBlocks?: number): Keys {
  if (secret.length < 32) throw new RangeError('token secret must be at least 32 bytes');
  const enc = createSecretKey(Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'm3u-proxy token enc v1', 32)));
  const siv = createSecretKey(Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'm3u-proxy token siv v2', 32)));
  const ctrKey = createSecretKey(Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'm3u-proxy token ctr v3', 32)));
  const polyR = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'm3u-proxy token poly1305 r v3', 16));
  const ctr = createCtrSealer(ctrKey, polyR, { poolBlocks });
  // Compared field by field: a concatenated key would be a new string to flatten on every token.
  let last = { kind: 's' as UriKind, streamId: '', aad: aadFor('s', '') };
  const aad = (kind: UriKind, streamId: string): Buffer => {
    if (last.kind !== kind || last.streamId !== streamId) last = { kind, streamId, aad: aadFor(kind, streamId) };
    return last.aad;
  };
  return { enc, siv, ctr, aad };
}

function aadFor(kind: UriKind, streamId: string): Buffer {
  return Buffer.from(`${String.fromCharCode(VERSION)}${kind}${streamId}`, 'utf8');
}

function sealWith(keys: Keys, { url, streamId, clientId, kind }: TokenFields): string {
  if (kind === 's') return keys.ctr.seal(VERSION, keys.aad(kind, streamId), clientId, url);
  const clientBytes = Buffer.byteLength(clientId, 'utf8');
  if (clientBytes > MAX_CLIENT_ID_BYTES) throw new RangeError('client id too long for a token');
  const plaintext = Buffer.allocUnsafe(2 + clientBytes + Buffer.byteLength(url, 'utf8'));
  plaintext.writeUInt16BE(clientBytes, 0);
  plaintext.write(clientId, 2, 'utf8');
  plaintext.write(url, 2 + clientBytes, 'utf8');
  const aad = keys.aad(kind, streamId);
  // A synthetic IV, HMAC(siv key, aad | plaintext) truncated (the SIV construction, RFC 5297
  // §1.3.4), so one (stream, client, URL) always gives the same URI and LL-HLS rendition reports match the master's
  // variant URIs (issue 12 item 4). Distinct plaintexts get distinct IVs up to HMAC collisions, so GCM's nonce rule
  // holds; equal plaintexts reveal only that they are equal, which the URI being stable says anyway.
  const iv = createHmac('sha256', keys.siv).update(aad).update(plaintext).digest().subarray(0, IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keys.enc, iv);
  cipher.setAAD(aad);
  const out = Buffer.allocUnsafe(HEADER_BYTES + plaintext.length + TAG_BYTES);
  out[0] = VERSION;
  iv.copy(out, 1);
  // GCM is a stream mode: update() returns exactly as many bytes as it was given, and final() returns none.
  cipher.update(plaintext).copy(out, HEADER_BYTES);
  cipher.final();
  cipher.getAuthTag().copy(out, HEADER_BYTES + plaintext.length);
  return out.toString('base64url');
}

function openWith(keys: Keys, token: string, expectedStreamId: string, expectedKind: UriKind): TokenFields {
  if (token.length > MAX_TOKEN_CHARS || !BASE64URL.test(token)) throw new BadTokenError();
  const raw = Buffer.from(token, 'base64url');
  if (raw.length < (expectedKind === 's' ? MIN_CTR_TOKEN_BYTES : MIN_TOKEN_BYTES) || raw[0] !== VERSION) throw new BadTokenError();
  // base64url has several spellings of the same bytes (unused trailing bits); only the canonical one is valid.
  if (raw.toString('base64url') !== token) throw new BadTokenError();
  const plaintext = expectedKind === 's' ? keys.ctr.open(raw, aadFor(expectedKind, expectedStreamId)) : openGcm(keys, raw, expectedStreamId, expectedKind);
  if (plaintext === undefined) throw new BadTokenError();
  const clientBytes = plaintext.readUInt16BE(0);
  if (2 + clientBytes > plaintext.length) throw new BadTokenError();
  return {
    url: plaintext.toString('utf8', 2 + clientBytes),
    streamId: expectedStreamId,
    clientId: plaintext.toString('utf8', 2, 2 + clientBytes),
    kind: expectedKind,
  };
}

function openGcm(keys: Keys, raw: Buffer, expectedStreamId: string, expectedKind: UriKind): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', keys.enc, raw.subarray(1, HEADER_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(aadFor(expectedKind, expectedStreamId));
  decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(raw.subarray(HEADER_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
  } catch (err) {
    // final() throws exactly when the tag does not verify: tampered, foreign stream, or another secret.
    const bad = new BadTokenError();
    bad.cause = err;
    throw bad;
  }
}

/**
 * A bounded memo in two generations: hits in the young one cost one Map lookup (no reordering as in a strict LRU),
 * hits in the old one are promoted, and when the young one is full the old one is dropped. Holds at most `size`.
 */
function createMemo<V>(size: number) {
  const half = Math.max(1, Math.floor(size / 2));
  let young = new Map<string, V>();
  let old = new Map<string, V>();
  const put = (key: string, value: V): void => {
    if (young.size >= half) {
      old = young;
      young = new Map();
    }
    young.set(key, value);
  };
  return {
    get(key: string): V | undefined {
      const hit = young.get(key);
      if (hit !== undefined || size <= 0) return hit;
      const aged = old.get(key);
      if (aged !== undefined) put(key, aged);
      return aged;
    },
    set(key: string, value: V): void {
      if (size > 0) put(key, value);
    },
  };
}

/**
 * The sealer the app should use: keys derived once, and seal/open memoised so that a playlist fetched again by the
 * same client costs map lookups instead of crypto. `cacheSize` bounds each memo (entries; 0 disables them);
 * `sealCacheSize` overrides it for seal(), for callers that remember whole rewritten URIs themselves.
 *
 * A key given as a function is asked for, and the keys derived, at the first seal or open: a server that never plays
 * HLS never loads node:crypto (bin/lazy-builtins.ts).
 */
export function createTokenSealer(
  secret: Buffer | (() => Buffer),
  opts: { cacheSize?: number; sealCacheSize?: number; poolBlocks?: number } = {},
): TokenSealer {
  const keyOf = typeof secret === 'function' ? secret : () => secret;
  // A Buffer is checked (and its keys derived) at once, so that a short one fails where it is given.
  let derived = typeof secret === 'function' ? undefined : deriveKeys(secret, opts.poolBlocks);
  const keysNow = (): Keys => (derived ??= deriveKeys(keyOf(), opts.poolBlocks));
  const size = opts.cacheSize ?? DEFAULT_TOKEN_CACHE_SIZE;
  const sealSize = opts.sealCacheSize ?? size;
  const sealed = createMemo<string>(sealSize);
  const opened = createMemo<TokenFields>(size);
  return {
    seal(fields) {
      if (sealSize <= 0) return sealWith(keysNow(), fields);
      // Lengths first, so that no two different field triples can share a key.
      const key = `${fields.kind}${fields.streamId.length}:${fields.clientId.length}:${fields.streamId}${fields.clientId}${fields.url}`;
      let token = sealed.get(key);
      if (token === undefined) {
        token = sealWith(keysNow(), fields);
        sealed.set(key, token);
      }
      return token;
    },
    sealSegmentInto(sink, streamId, clientId, dir, ref) {
      const keys = keysNow();
      keys.ctr.sealInto(sink, VERSION, keys.aad('s', streamId), clientId, dir, ref);
    },
    open(token, expectedStreamId, expectedKind) {
      // A token never contains ':', so this key is unambiguous. Only successful opens are remembered.
      const key = `${token}:${expectedKind}${expectedStreamId}`;
      const hit = opened.get(key);
      if (hit !== undefined) return { ...hit };
      const fields = openWith(keysNow(), token, expectedStreamId, expectedKind);
      opened.set(key, fields);
      return { ...fields };
    },
  };
}

/** One-shot seal; derives the keys on every call, so prefer createTokenSealer() on any hot path. */
export function sealToken(secret: Buffer, fields: TokenFields): string {
  return sealWith(deriveKeys(secret), fields);
}

/** One-shot open; throws BadTokenError for tampered, garbage, foreign-stream or other-secret tokens. */
export function openToken(secret: Buffer, token: string, expectedStreamId: string, expectedKind: UriKind): TokenFields {
  return openWith(deriveKeys(secret), token, expectedStreamId, expectedKind);
}

const MAX_EXTENSION_CHARS = 5;

function isLowerAlnum(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39);
}

/**
 * The extension a proxied URI ends with (`{token}.{ext}`, SPEC §5.4), from the upstream path: players and
 * content-type fallbacks look at it. Playlists are always `m3u8` since the proxy always serves them as HLS;
 * a segment gets its path's extension when it is 1-5 chars of [a-z0-9] (lowercased), else `ts`.
 */
export function extensionFor(url: string, kind: UriKind): string {
  if (kind === 'p') return 'm3u8';
  // A backwards scan instead of new URL(): this runs once per segment of every playlist.
  const scheme = url.indexOf('://');
  const pathStart = url.indexOf('/', scheme === -1 ? 0 : scheme + 3);
  if (pathStart === -1) return 'ts';
  const pathEnd = pathEndAt(url, pathStart);
  const from = extensionStart(url, pathStart, pathEnd);
  return from === -1 ? 'ts' : url.slice(from, pathEnd).toLowerCase();
}

/**
 * Appends `.{ext}` for a segment URL that ends in the plain relative reference `ref` (the rewriter's hot path): the
 * extension extensionFor(dir + ref, 's') gives, as bytes, with no string made.
 */
export function writeSegmentExtension(sink: ByteSink, ref: string): void {
  const pathEnd = pathEndAt(ref, 0);
  const from = extensionStart(ref, -1, pathEnd);
  sink.room(1 + MAX_EXTENSION_CHARS);
  const buf = sink.buf;
  let at = sink.at;
  buf[at++] = 0x2e;
  if (from === -1) {
    buf[at++] = 0x74;
    buf[at++] = 0x73;
  } else {
    for (let i = from; i < pathEnd; i++) buf[at++] = lower(ref.charCodeAt(i));
  }
  sink.at = at;
}

/** Where the path that starts at `pathStart` ends: at the first '?' or '#' (native scans), or at the end. */
function pathEndAt(url: string, pathStart: number): number {
  let pathEnd = url.indexOf('?', pathStart);
  if (pathEnd === -1) pathEnd = url.length;
  const hash = url.indexOf('#', pathStart);
  return hash !== -1 && hash < pathEnd ? hash : pathEnd;
}

function lower(code: number): number {
  return code >= 0x41 && code <= 0x5a ? code | 0x20 : code;
}

/** Where the path's extension starts (after its '.'), scanning back to just after `floor`; -1 when it has none we use. */
function extensionStart(url: string, floor: number, pathEnd: number): number {
  for (let i = pathEnd - 1; i > floor; i--) {
    const c = lower(url.charCodeAt(i));
    if (c === 0x2e) return i + 1 < pathEnd ? i + 1 : -1;
    if (!isLowerAlnum(c) || pathEnd - i > MAX_EXTENSION_CHARS) return -1;
  }
  return -1;
}

/** Splits the last path segment of a proxied URI (`{token}.{ext}`) into its parts; undefined when malformed. */
export function splitTokenFile(file: string): { token: string; ext: string } | undefined {
  const dot = file.lastIndexOf('.');
  const token = dot === -1 ? file : file.slice(0, dot);
  const ext = dot === -1 ? '' : file.slice(dot + 1);
  if (token.length === 0 || !BASE64URL.test(token)) return undefined;
  return { token, ext };
}
