// Rewriting every URI of an HLS playlist (RFC 8216 §4.3) to a proxy URL, line by line, leaving every other byte as it was.
import { Transform, type TransformCallback } from 'node:stream';
import { createLineDecoder, MAX_LINE_BYTES, type LineEnding } from './lines.ts';
import { PlaylistTooLargeError } from '../../errors.ts';
import { type AttributeSpan, readMethod, scanAttributes } from './attributes.ts';
import { applyDefine, defineForPlayer, substituteVariables } from './variables.ts';
import { createOutput } from './output.ts';
import { baseDir, createResolver, isDataUri, isSimpleOnRoot, isSimpleRef, resolveAndProxify, type Resolver } from './resolve.ts';
import type { RewriteContext, UriKind } from './rewrite-context.ts';
import type { ByteSink } from '../byte-sink.ts';

/**
 * What the lines read so far tell about the next ones: a URI line after EXT-X-STREAM-INF is a variant playlist
 * (§4.3.4.2), and EXT-X-DEFINE variables apply to every later line (rfc8216bis §4.4.2.3).
 */
export interface RewriteState {
  nextUriIsPlaylist: boolean;
  /** The media sequence number of the next media segment URI line (§4.3.3.2: EXT-X-MEDIA-SEQUENCE, then +1 each). */
  msn: number;
  /** Variable name → value, in the line's own form (latin1 bytes on the streaming path). */
  vars: Map<string, string>;
  /** EXT-X-ENDLIST was seen (§4.3.3.4): no more segments will be added, and players do not reload it (§6.3.4). */
  ended: boolean;
}

export function createRewriteState(): RewriteState {
  return { nextUriIsPlaylist: false, msn: 0, vars: new Map(), ended: false };
}

/** One URI-bearing attribute of a tag, and what its URI is. */
type UriAttribute = readonly [name: string, kind: UriKind];
const URI_ONLY = (kind: UriKind): readonly UriAttribute[] => [['URI', kind]];

// Tags whose URI attributes are rewritten, and what each URI is (SPEC §5.2). Others, e.g. EXT-X-SKIP, carry none.
const URI_TAGS: ReadonlyMap<string, readonly UriAttribute[]> = new Map<string, readonly UriAttribute[]>([
  ['#EXT-X-KEY', URI_ONLY('s')], // §4.3.2.4
  ['#EXT-X-SESSION-KEY', URI_ONLY('s')], // §4.3.4.5
  ['#EXT-X-MAP', URI_ONLY('s')], // §4.3.2.5
  ['#EXT-X-MEDIA', URI_ONLY('p')], // §4.3.4.1
  ['#EXT-X-I-FRAME-STREAM-INF', URI_ONLY('p')], // §4.3.4.3
  ['#EXT-X-SESSION-DATA', URI_ONLY('s')], // §4.3.4.4 (a JSON document)
  ['#EXT-X-PART', URI_ONLY('s')], // LL-HLS, draft-pantos-hls-rfc8216bis §4.4.4.9
  ['#EXT-X-PRELOAD-HINT', URI_ONLY('s')], // rfc8216bis §4.4.5.3
  ['#EXT-X-RENDITION-REPORT', URI_ONLY('p')], // rfc8216bis §4.4.5.4
  // rfc8216bis §4.4.6.6 and appendix D (HLS Interstitials): X-ASSET-URI names the asset's own playlist (multivariant
  // or media), X-ASSET-LIST a JSON list of assets, fetched like a segment (its URIs are the client's business).
  ['#EXT-X-DATERANGE', [['X-ASSET-URI', 'p'], ['X-ASSET-LIST', 's']]],
  // rfc8216bis §4.4.6.6 EXT-X-CONTENT-STEERING: the steering manifest is JSON, proxied as an object; the pathway
  // URIs inside it are not rewritten (out of scope, said in docs/hls.md).
  ['#EXT-X-CONTENT-STEERING', [['SERVER-URI', 's']]],
  // Roku trick play: the image (thumbnail) playlist; its EXT-X-IMAGES-ONLY media playlist lists tiles as URI lines.
  ['#EXT-X-IMAGE-STREAM-INF', URI_ONLY('p')],
]);

const DEFINE = '#EXT-X-DEFINE';
const MEDIA_SEQUENCE = '#EXT-X-MEDIA-SEQUENCE';
const SKIP = '#EXT-X-SKIP';
const ENDLIST = '#EXT-X-ENDLIST';

const STREAM_INF = '#EXT-X-STREAM-INF';
const BOM_BINARY = '\xef\xbb\xbf';
const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const HASH = 0x23;

const NON_ASCII = /[^\x00-\x7f]/;

/** Resolves `ref` (RFC 3986 §5.2) and proxifies it; undefined means "leave it as it is". */
function proxifyRef(ref: string, kind: UriKind, r: Resolver, binary: boolean, vars: ReadonlyMap<string, string>): string | undefined {
  if (ref.length === 0) return undefined;
  // data: URIs can be huge and never go upstream; skip them before any parsing (SPEC §5.2).
  if (isDataUri(ref)) return undefined;
  // rfc8216bis §4.4.2.3: variables are replaced before the URI is resolved. Such a URI bypasses the memo, whose key
  // is the spelling: the same spelling may mean another URL once a variable's value changed.
  const substituted = ref.includes('{$') ? substituteVariables(ref, vars) : ref;
  if (substituted !== ref) return isDataUri(substituted) ? undefined : resolveAndProxify(substituted, kind, r, binary);
  // The memo holds binary-mode results only (the streaming path), as proxify gave them. Playlist
  // URIs are few and must reach onPlaylistUri resolved, so they always take the full path.
  const memo = binary && kind === 's' ? r.ctx.memo : undefined;
  if (memo !== undefined) {
    const hit = memo.get(ref);
    if (hit !== undefined) return hit;
  }
  const out = resolveAndProxify(ref, kind, r, binary);
  if (memo !== undefined && out !== undefined) memo.set(ref, out);
  return out;
}

/** A media segment's URI: the one already handed out for its media sequence number, when the context keeps one. */
function segmentUri(ref: string, msn: number, r: Resolver, binary: boolean, vars: ReadonlyMap<string, string>): string | undefined {
  const kept = r.ctx.bySequence;
  if (kept === undefined) return proxifyRef(ref, 's', r, binary, vars);
  const uri = kept.get(msn);
  if (uri !== undefined) return uri;
  const fresh = proxifyRef(ref, 's', r, binary, vars);
  if (fresh !== undefined) kept.set(msn, fresh);
  return fresh;
}

/**
 * The hot path of a big playlist: a whole-line segment URI written straight into the output, from the memo or sealed
 * in place, with no string made. False when the line needs the general path: URIs kept by sequence number, a
 * variable or data: URI, a reference that needs parsing to resolve, or a context without a segment writer.
 */
function writeSegmentLine(ref: string, r: Resolver, sink: ByteSink): boolean {
  const ctx = r.ctx;
  const writer = ctx.segmentWriter;
  if (ctx.bySequence !== undefined || writer === undefined || ref.includes('{$') || isDataUri(ref)) return false;
  const memo = ctx.memo;
  if (memo?.copyTo !== undefined && memo.copyTo(ref, sink)) return true;
  let dir = baseDir(r);
  if (dir === null) return false;
  // An absolute URL on the base's own host with a plain path is its own resolution: the directory part is empty.
  if (!isSimpleRef(ref)) {
    if (!isSimpleOnRoot(ref, r.root)) return false;
    dir = '';
  }
  // Settles a held copy first (see output.ts), so that `at` is where this URI starts.
  sink.room(0);
  const from = sink.at;
  writer.write(sink, dir, ref);
  if (memo?.setBytes !== undefined) memo.setBytes(ref, sink.buf, from, sink.at);
  else memo?.set(ref, sink.buf.toString('utf8', from, sink.at));
  return true;
}

/** A proxify result in the binary form of the line it goes into (its UTF-8 bytes, one char per byte). */
function toBinary(uri: string): string {
  return NON_ASCII.test(uri) ? Buffer.from(uri, 'utf8').toString('latin1') : uri;
}

/** A line that starts with '#' but not with '#EXT-X-': a comment, or a tag (EXTINF, EXTM3U...) that holds no URI. */
function isPlainComment(text: string, start: number, end: number): boolean {
  return start < end && text.charCodeAt(start) === HASH && !text.startsWith('#EXT-X-', start);
}

function isBlank(code: number): boolean {
  return code === SPACE || code === TAB || code === CR;
}

/**
 * Every value of the tag's URI attributes, right to left. Every one, and unquoted ones too: neither a repeated URI
 * attribute nor an unquoted value is valid RFC 8216 (§4.2), but hls.js reads both (the last of a repeated one), and a
 * value left as the provider wrote it would send the player to the provider, its credentials with it.
 */
function findSpans(line: string, from: number, attrs: readonly UriAttribute[]): { span: AttributeSpan; kind: UriKind }[] {
  const out: { span: AttributeSpan; kind: UriKind }[] = [];
  scanAttributes(line, from, (span) => {
    const wanted = attrs.find(([name]) => name.length === span.name.length && name === span.name.toUpperCase());
    if (wanted !== undefined) out.push({ span: span.quoted ? span : trimmed(line, span), kind: wanted[1] });
  });
  return out.reverse();
}

/** An unquoted value without the blanks around it. */
function trimmed(line: string, span: AttributeSpan): AttributeSpan {
  let { start, end } = span;
  while (start < end && isBlank(line.charCodeAt(start))) start++;
  while (end > start && isBlank(line.charCodeAt(end - 1))) end--;
  return { ...span, start, end };
}

// The single implementation behind both entry points. `binary` says the line is bytes-as-latin1 (streaming path).
// Returns undefined when it wrote the line (without its ending) to `sink` itself.
function rewrite(line: string, state: RewriteState, r: Resolver, binary: boolean, sink: ByteSink | undefined): string | undefined {
  const n = line.length;
  let start = 0;
  while (start < n && isBlank(line.charCodeAt(start))) start++;
  if (start === n) return line; // blank line
  if (line.charCodeAt(start) === HASH) {
    // Comments and non-URI tags fall through untouched, including EXTINF, BYTERANGE and unknown tags.
    if (!line.startsWith('#EXT-X-', start)) return line;
    const colon = line.indexOf(':', start);
    const tag = line.slice(start, colon === -1 ? n : colon).trimEnd();
    if (tag === STREAM_INF) {
      state.nextUriIsPlaylist = true;
      return line;
    }
    if (colon === -1) {
      if (tag === ENDLIST) state.ended = true;
      return line;
    }
    if (tag === DEFINE) {
      applyDefine(line, colon + 1, state.vars, r.ctx, binary);
      return defineForPlayer(line, colon + 1) ?? line;
    }
    if (tag === MEDIA_SEQUENCE) {
      const msn = Number.parseInt(line.slice(colon + 1).trim(), 10);
      if (Number.isSafeInteger(msn) && msn >= 0) state.msn = msn;
      return line;
    }
    if (tag === SKIP) {
      // rfc8216bis §4.4.5.2: a delta update leaves out its first SKIPPED-SEGMENTS segments, which keep their numbers.
      const skipped = Number(/(?:^|,)\s*SKIPPED-SEGMENTS=(\d+)/.exec(line.slice(colon + 1))?.[1] ?? 0);
      if (Number.isSafeInteger(skipped)) state.msn += skipped;
      return line;
    }
    const attrs = URI_TAGS.get(tag);
    if (attrs === undefined) return line;
    // §4.3.2.4: METHOD=NONE means no key at all; there is nothing to fetch.
    if ((tag === '#EXT-X-KEY' || tag === '#EXT-X-SESSION-KEY') && readMethod(line, colon + 1) === 'NONE') return line;
    let out = line;
    // Right to left, so that a replacement never moves the span of an attribute still to be replaced.
    for (const { span, kind } of findSpans(line, colon + 1, attrs)) {
      if (span.end === span.start) continue;
      const replacement = proxifyRef(line.slice(span.start, span.end), kind, r, binary, state.vars);
      if (replacement !== undefined) out = out.slice(0, span.start) + (binary ? toBinary(replacement) : replacement) + out.slice(span.end);
    }
    return out;
  }
  // §4.1: any other non-blank line is a URI. Its kind was decided by the tag before it (SPEC §5.2), not its suffix.
  const kind: UriKind = state.nextUriIsPlaylist ? 'p' : 's';
  state.nextUriIsPlaylist = false;
  let end = n;
  while (end > start && isBlank(line.charCodeAt(end - 1))) end--;
  const whole = start === 0 && end === n;
  if (kind === 's' && whole && sink !== undefined && writeSegmentLine(line, r, sink)) {
    state.msn++;
    return undefined;
  }
  const ref = whole ? line : line.slice(start, end);
  const replacement = kind === 's' ? segmentUri(ref, state.msn++, r, binary, state.vars) : proxifyRef(ref, kind, r, binary, state.vars);
  if (replacement === undefined) return line;
  if (whole) {
    // The whole line is the URI: the binary rewriter writes it as UTF-8 itself, which spares a scan for non-ASCII.
    if (binary) r.wholeUri = true;
    return replacement;
  }
  return line.slice(0, start) + (binary ? toBinary(replacement) : replacement) + line.slice(end);
}

/**
 * Rewrites one line (without its ending). Returns the same string when nothing in it is a URI to proxy.
 * `state` carries what the previous lines said; use one state per playlist, from createRewriteState().
 */
export function rewriteLine(line: string, state: RewriteState, ctx: RewriteContext): string {
  return rewrite(line, state, createResolver(ctx), false, undefined) ?? line;
}

// Lines travel as latin1 strings (one char per byte) so that bytes the rewriter does not touch, even invalid UTF-8
// in a title, come out exactly as they went in.
/** Bounds of one playlist response (issue 14.3): an endless or huge playlist is cut, not rewritten without end. */
export interface RewriteLimits {
  maxLineBytes?: number;
  /** Lines (of any kind) one playlist may have; past it the stream fails with PlaylistTooLargeError. */
  maxLines?: number;
  /** Body bytes (decoded) one playlist may have; past it the stream fails with PlaylistTooLargeError. */
  maxBytes?: number;
}

function createBinaryRewriter(ctx: RewriteContext, limits: RewriteLimits) {
  const state = createRewriteState();
  const r = createResolver(ctx);
  const maxLines = limits.maxLines ?? Infinity;
  const maxBytes = limits.maxBytes ?? Infinity;
  let lines = 0;
  let bytes = 0;
  const out = createOutput();
  const lineDecoder = createLineDecoder((input, start, end, eol: LineEnding, bom) => {
    if (++lines > maxLines) throw new PlaylistTooLargeError(`Upstream playlist has more than ${maxLines} lines`);
    if (bom) out.text(BOM_BINARY, false);
    if (isPlainComment(input, start, end)) {
      // rewrite() would give it back unchanged: copied without a string of its own (EXTINF: half the lines).
      out.range(input, start, end);
    } else {
      r.wholeUri = false;
      const text = rewrite(start === 0 && end === input.length ? input : input.slice(start, end), state, r, true, out);
      if (text !== undefined) out.text(text, r.wholeUri);
    }
    out.eol(eol);
  }, limits.maxLineBytes ?? MAX_LINE_BYTES);
  const decoder = {
    push(chunk: Buffer): void {
      bytes += chunk.length;
      if (bytes > maxBytes) throw new PlaylistTooLargeError(`Upstream playlist is larger than ${maxBytes} bytes`);
      out.reserve(chunk.length);
      lineDecoder.push(chunk);
    },
    end(): void {
      lineDecoder.end();
      ctx.memo?.end?.(state.ended);
    },
  };
  return { decoder, take: (): Buffer | undefined => out.take() };
}

/** Rewrites a whole playlist body. Throws UpstreamError when a line is longer than `maxLineBytes`. */
export function rewritePlaylist(input: Buffer | string, ctx: RewriteContext, opts: RewriteLimits = {}): Buffer {
  const { decoder, take } = createBinaryRewriter(ctx, opts);
  decoder.push(typeof input === 'string' ? Buffer.from(input, 'utf8') : input);
  decoder.end();
  return take() ?? Buffer.alloc(0);
}

/**
 * A Transform, bytes in and bytes out, that rewrites a playlist as it streams: it holds at most one partial line.
 * Fails with UpstreamError (502) when a line is longer than `maxLineBytes` (default 64 KiB), and with
 * PlaylistTooLargeError past `maxLines` or `maxBytes`.
 */
export function createRewriteStream(ctx: RewriteContext, opts: RewriteLimits = {}): Transform {
  const { decoder, take } = createBinaryRewriter(ctx, opts);
  const run = (stream: Transform, step: () => void, callback: TransformCallback): void => {
    try {
      step();
    } catch (err) {
      callback(err as Error);
      return;
    }
    const bytes = take();
    if (bytes !== undefined) stream.push(bytes);
    callback();
  };
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      run(this, () => decoder.push(chunk), callback);
    },
    flush(callback: TransformCallback) {
      run(this, () => decoder.end(), callback);
    },
  });
}
