// What the playlist rewriter (rewrite.ts) is given by its caller: where the playlist came from, how an upstream URL
// becomes a proxy URI, and what it may remember between reloads.
import type { ByteSink } from '../byte-sink.ts';

/** 'p': the URI is a playlist (variant, rendition, I-frame playlist, rendition report); 's': anything else. */
export type UriKind = 'p' | 's';

export interface RewriteContext {
  /** The playlist's final URL (after redirects): the base of relative URIs (RFC 3986 §5). */
  baseUrl: string;
  /** Turns an absolute http(s) upstream URL into the URI the player gets. Must return ASCII (a URL does). */
  proxify(kind: UriKind, absoluteUrl: string): string;
  /** Writes segment-kind URIs as bytes: the hot path of a big playlist (issue 12 item 7). */
  segmentWriter?: SegmentUriWriter;
  /**
   * Remembers rewritten URIs by the reference as the playlist spells it. Valid only for one (baseUrl, proxify) pair:
   * the caller keys it by them. Lets a reloaded playlist skip resolving and sealing the lines it already had.
   */
  memo?: RewriteMemo;
  /** Called with every playlist-kind URI (variants, renditions...), resolved, in playlist order. */
  onPlaylistUri?(absoluteUrl: string): void;
  /**
   * The variables of the multivariant playlist this media playlist came from, for EXT-X-DEFINE:IMPORT (rfc8216bis
   * §4.4.2.3), as onDefine reported them when the master was rewritten.
   */
  imports?: ReadonlyMap<string, string>;
  /** Called with every variable this playlist defines, so that a master's can be imported by its media playlists. */
  onDefine?(name: string, value: string): void;
  /** The URL the playlist was requested with, whose query EXT-X-DEFINE:QUERYPARAM reads; default `baseUrl`. */
  queryUrl?: string;
  /**
   * Media segment URIs already handed out, by media sequence number (§4.3.3.2): a URI it returns for a segment wins
   * over a new one, so a segment keeps its URI when the same playlist comes from another upstream (a failover).
   */
  bySequence?: SequenceUris;
}

/**
 * An object with a method rather than a function per playlist answer: the rewriter's call to it then has one target
 * in every answer, which V8 can keep inlined (a new closure per answer made it deoptimise, answer after answer).
 */
export interface SegmentUriWriter {
  /**
   * Appends to `sink`, as bytes and with no string made, what proxify('s', dir + ref) gives. `dir` is the base URL's
   * directory as WHATWG serialises it (ending in '/'), or '' for an absolute `ref`; `dir + ref` is the URL unchanged.
   */
  write(sink: ByteSink, dir: string, ref: string): void;
}

/** Proxy URIs of media segments by media sequence number; `get` decides whether a kept one still applies. */
export interface SequenceUris {
  get(msn: number): string | undefined;
  set(msn: number, uri: string): void;
}

/**
 * What createRewriteStream and rewritePlaylist may remember between reloads of one playlist: segment-kind references
 * as the playlist spells them (one char per byte), asked in playlist order.
 */
export interface RewriteMemo {
  get(ref: string): string | undefined;
  /** Records the URI made for `ref` after a miss. */
  set(ref: string, uri: string): void;
  /** Appends the remembered URI's bytes to `sink`; false when `ref` is not remembered. */
  copyTo?(ref: string, sink: ByteSink): boolean;
  /** Records bytes [start, end) of `src` as the URI made for `ref` after a miss. */
  setBytes?(ref: string, src: Buffer, start: number, end: number): void;
  /**
   * Called once the whole playlist was rewritten (not after a failure): what was recorded may now be used.
   * `endList`: the playlist had EXT-X-ENDLIST, so players will not reload it (RFC 8216 §6.3.4).
   */
  end?(endList: boolean): void;
}
