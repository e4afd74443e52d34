// Resolving a playlist's URI references against its URL (RFC 3986 §5.2, WHATWG URL) before they are proxified, with
// fast paths for the plain relative references that make up the bulk of a big playlist.
import type { RewriteContext, UriKind } from './rewrite-context.ts';

// A relative reference of plain path segments plus an optional query, e.g. `seg_12.ts?t=a%2Fb` or `720p/seg_12.ts`:
// WHATWG URL parsing would copy it unchanged after the base's directory, so resolving it needs no parse (the hot
// path of a 20,000-segment VOD playlist). No segment can be empty or a dot segment (none starts with '.' or '%',
// so neither `..` nor `%2e%2e`), none can hold a scheme, and no byte is one URL would escape.
const SIMPLE_REF = /^(?:[A-Za-z0-9_~-][A-Za-z0-9._~!$&()*+,;=@%-]*\/)*[A-Za-z0-9_~-][A-Za-z0-9._~!$&()*+,;=@%-]*(?:\?[A-Za-z0-9._~!$&()*+,;=:@%/?-]*)?$/;
// The same after an absolute reference's `http(s)://host/` (sticky: tested from lastIndex, no slice).
const SIMPLE_PATH_AT = /(?:[A-Za-z0-9_~-][A-Za-z0-9._~!$&()*+,;=@%-]*\/)*[A-Za-z0-9_~-][A-Za-z0-9._~!$&()*+,;=@%-]*(?:\?[A-Za-z0-9._~!$&()*+,;=:@%/?-]*)?$/y;
const NON_ASCII_BINARY = /[\x80-\xff]/g;

export interface Resolver {
  ctx: RewriteContext;
  /** Base URL up to and including the last '/' of its path; null when unusable for the fast path; computed lazily. */
  dir: string | null | undefined;
  /** `scheme://host[:port]/` of the base as WHATWG serialises it (with `dir`): absolute URIs on it skip parsing. */
  root: string | null;
  /** Set by a binary-mode rewrite() whose result is a whole-line proxify result, not a binary string: write it as UTF-8. */
  wholeUri: boolean;
}

// One resolver per playlist: the base is parsed once, not once per line.
export function createResolver(ctx: RewriteContext): Resolver {
  return { ctx, dir: undefined, root: null, wholeUri: false };
}

function baseDirectory(r: Resolver, baseUrl: string): string | null {
  if (!URL.canParse(baseUrl)) return null;
  const base = new URL(baseUrl);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') return null;
  r.root = `${base.protocol}//${base.host}/`;
  const href = base.href;
  const noQuery = href.slice(0, href.length - base.search.length - base.hash.length);
  // The query/fragment is gone and special URLs always have a path starting with '/', so this '/' is in the path.
  return noQuery.slice(0, noQuery.lastIndexOf('/') + 1);
}

/** `data:` in any case, compared by char code: this runs on every URI of every playlist. */
export function isDataUri(ref: string): boolean {
  return (
    ref.length > 5 &&
    (ref.charCodeAt(0) | 0x20) === 0x64 &&
    (ref.charCodeAt(1) | 0x20) === 0x61 &&
    (ref.charCodeAt(2) | 0x20) === 0x74 &&
    (ref.charCodeAt(3) | 0x20) === 0x61 &&
    ref.charCodeAt(4) === 0x3a
  );
}

/** The base URL's directory (WHATWG-serialised, ending in '/'), or null when the base is no http(s) URL. */
export function baseDir(r: Resolver): string | null {
  if (r.dir === undefined) r.dir = baseDirectory(r, r.ctx.baseUrl);
  return r.dir;
}

/** Whether `ref` resolves against any http(s) base directory to that directory followed by `ref`, unchanged. */
export function isSimpleRef(ref: string): boolean {
  return SIMPLE_REF.test(ref);
}

/** Resolves a reference and proxifies it; undefined means "leave it as it is". `binary`: `ref` is one char per byte. */
export function resolveAndProxify(ref: string, kind: UriKind, r: Resolver, binary: boolean): string | undefined {
  let absolute: string;
  // The two fast paths accept ASCII only, so they need no percent-encoding first.
  const dir = baseDir(r);
  if (dir !== null && SIMPLE_REF.test(ref)) {
    absolute = dir + ref;
  } else if (isSimpleOnRoot(ref, r.root)) {
    // An absolute URL on the base's own scheme and host with a plain path: WHATWG parsing gives it back unchanged
    // (scheme and host are in serialised form, and nothing in the rest is escaped or a dot segment).
    absolute = ref;
  } else {
    // In binary mode the line is one char per byte: percent-encode raw non-ASCII bytes, exactly what URL parsing
    // does to UTF-8, and the only faithful choice for bytes that are not UTF-8 at all.
    if (binary) ref = ref.replace(NON_ASCII_BINARY, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    let url: URL;
    try {
      url = new URL(ref, r.ctx.baseUrl);
    } catch (err) {
      if (err instanceof TypeError) return undefined; // unparseable URI: the line stays unchanged
      throw err;
    }
    // skd://, ftp:, etc. are not ours to fetch (FairPlay keys are resolved by the device itself).
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    absolute = url.href;
  }
  if (kind === 'p') r.ctx.onPlaylistUri?.(absolute);
  const out = r.ctx.proxify(kind, absolute);
  // Returned as proxify gave it (not in the binary form): whoever puts it into a binary line converts it.
  return out;
}

/** Whether `ref` is an absolute URL on `root` (the base's `scheme://host/`) that WHATWG parsing gives back unchanged. */
export function isSimpleOnRoot(ref: string, root: string | null): boolean {
  if (root === null || !ref.startsWith(root)) return false;
  SIMPLE_PATH_AT.lastIndex = root.length;
  return SIMPLE_PATH_AT.test(ref);
}

