// HLS playback (SPEC §5.2, §5.4): wires the playlist and segment proxies and owns the opaque playback URLs they hand
// out. The only place a token is sealed or opened, so no request can name an upstream URL a playlist did not give.
import type { UriKind } from '../../core/m3u8/rewrite.ts';
import { extensionFor, splitTokenFile, type TokenFields, type TokenSealer } from '../../core/token.ts';
import { BadTokenError } from '../../errors.ts';
import type { HlsDeps } from './hls-context.ts';
import { createRewriteMemoStore } from './hls-rewrite-memo.ts';
import { createVariantBook } from './hls-variants.ts';
import { createPlaylistProxy, type PlaylistRequest } from './proxy-hls-playlist.ts';
import { createSegmentProxy, type SegmentRequest } from './proxy-hls-segment.ts';

export interface HlsProxyDeps extends Omit<HlsDeps, 'urls' | 'memos' | 'variants'> {
  tokens: TokenSealer;
  /** PUBLIC_URL when set (absolute URLs), else ROOT_PATH (root-relative URLs). */
  urlBase: string;
}

export type HlsProxy = ReturnType<typeof createHlsProxy>;

export function createHlsProxy(deps: HlsProxyDeps) {
  const { tokens, urlBase } = deps;
  const urls: HlsDeps['urls'] = (streamId, clientId) => {
    const prefix = `${urlBase}/hls/${streamId}/`;
    return (kind, url) => joinProxyUri(prefix, kind, tokens.seal({ url, streamId, clientId, kind }), extensionFor(url, kind));
  };
  const full: HlsDeps = { ...deps, urls, memos: createRewriteMemoStore(), variants: createVariantBook() };
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

/** The proxy URI of a sealed token: `{prefix}{p|s}/{token}.{ext}` (SPEC §5.4). Kept apart from sealing on purpose. */
export function joinProxyUri(prefix: string, kind: UriKind, token: string, ext: string): string {
  return `${prefix}${kind}/${token}.${ext}`;
}
