// HLS playback (SPEC §5.2, §5.4): wires the playlist and segment proxies and owns the opaque playback URLs they hand
// out. The only place a token is sealed or opened, so no request can name an upstream URL a playlist did not give.
import { playbackDirs } from '../../core/relative-uri.ts';
import type { UriKind } from '../../core/m3u8/rewrite-context.ts';
import { extensionFor, splitTokenFile, type TokenFields, type TokenSealer } from '../../core/token.ts';
import { BadTokenError } from '../../errors.ts';
import type { HlsDeps } from './hls-context.ts';
import { createSegmentUriBook } from './segment-uris.ts';
import { SegmentTokenWriter } from './segment-token-writer.ts';
import { createRewriteMemoStore } from './hls-rewrite-memo.ts';
import { createVariantBook } from './hls-variants.ts';
import { createSegmentBook } from './segment-book.ts';
import { createHlsShare } from './hls-share.ts';
import { createPlaylistProxy, type PlaylistRequest } from './proxy-hls-playlist.ts';
import { createSegmentProxy, type SegmentRequest } from './proxy-hls-segment.ts';

export interface HlsProxyDeps extends Omit<HlsDeps, 'urls' | 'memos' | 'segmentUris' | 'variants' | 'book' | 'share'> {
  /** Bytes of the HLS segment cache (0: off). */
  segmentCacheBytes?: number;
  tokens: TokenSealer;
  /** PUBLIC_URL: absolute URIs on it; undefined: URIs relative to the playlist's own URL (SPEC §2). */
  publicUrl: string | undefined;
}

/** What segment failover and viewer sharing keep (segment-book.ts, hls-share.ts). */
function createHlsSharing(deps: HlsProxyDeps): Pick<HlsDeps, 'book' | 'share'> {
  return { book: createSegmentBook(), share: createHlsShare({ segmentCacheBytes: deps.segmentCacheBytes }) };
}

const NON_ASCII = /[^\x00-\x7f]/;

export type HlsProxy = ReturnType<typeof createHlsProxy>;

export function createHlsProxy(deps: HlsProxyDeps) {
  const { tokens, publicUrl } = deps;
  const urls: HlsDeps['urls'] = (streamId, clientId, requestPath) => {
    const dirs = playbackDirs(publicUrl, streamId, requestPath);
    return {
      proxify: (kind, url) => `${dirs[kind]}${tokens.seal({ url, streamId, clientId, kind })}.${extensionFor(url, kind)}`,
      // The same URI as bytes, one per char: a serialised URL or a relative path is ASCII; anything else keeps the
      // string path.
      segmentWriter: NON_ASCII.test(dirs.s) ? undefined : new SegmentTokenWriter(tokens, dirs.s, streamId, clientId),
    };
  };
  const memos = createRewriteMemoStore();
  const segmentUris = createSegmentUriBook();
  // What one player's reloads kept goes with its session (viewer-lru.ts).
  deps.streams.onClientEnded((c) => {
    if (c.kind !== 'hls') return;
    memos.forget(c.streamId, c.clientId);
    segmentUris.forget(c.streamId, c.clientId);
  });
  deps.streams.onRemoved((id) => {
    memos.forgetStream(id);
    segmentUris.forgetStream(id);
  });
  const full: HlsDeps = {
    ...deps,
    urls,
    memos,
    segmentUris,
    variants: createVariantBook(),
    ...createHlsSharing(deps),
  };
  const playlists = createPlaylistProxy(full);
  const segments = createSegmentProxy(full);
  return {
    servePlaylist: (p: PlaylistRequest): Promise<void> => playlists.serve(p),
    serveSegment: (p: SegmentRequest): Promise<void> => segments.serve(p),
    /**
     * `{token}.{ext}` of a p/ or s/ URL → the sealed fields; 403 BadTokenError when tampered, foreign, garbage, or
     * sealed for the other kind than the route's (a p/ token replayed under s/ would relay the raw playlist).
     */
    openFile(streamId: string, kind: UriKind, file: string): TokenFields {
      const parts = splitTokenFile(file);
      if (!parts) throw new BadTokenError();
      return tokens.open(parts.token, streamId, kind);
    },
  };
}

