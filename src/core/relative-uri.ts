// Where the URIs the proxy hands out point: relative to the answer's own URL (RFC 3986 §4.2, which RFC 8216 §4.1
// allows in playlists), so that they work behind any reverse proxy, prefix-stripping or not; or absolute on PUBLIC_URL.

/**
 * The prefix that, put before a file name, makes a reference which a document at `fromPath` resolves to that file
 * in directory `toDir`. Both are absolute paths below the same root; `toDir` ends with '/'. The result is '' (same
 * directory), or ends with '/': `/hls/a/playlist.m3u8` → `/hls/a/s/` gives `s/`, `/hls/a/p/x.m3u8` → `/hls/a/s/`
 * gives `../s/`, `/stream/a` → `/hls/a/` gives `../hls/a/`. The file name put after '' must not hold a ':'.
 */
export function relativeDirRef(fromPath: string, toDir: string): string {
  const from = fromPath.split('/');
  const to = toDir.split('/');
  // Directories only: the first element is the empty root, the last the file name ('' for toDir).
  const fromDirs = from.slice(1, -1);
  const toDirs = to.slice(1, -1);
  let common = 0;
  while (common < fromDirs.length && common < toDirs.length && fromDirs[common] === toDirs[common]) common++;
  const rest = toDirs.slice(common);
  const ref = '../'.repeat(fromDirs.length - common) + rest.map((d) => d + '/').join('');
  // A first segment with ':' would read as a scheme (RFC 3986 §4.2); './' keeps it a path.
  const firstSegment = ref.slice(0, ref.indexOf('/') + 1);
  return firstSegment.includes(':') ? './' + ref : ref;
}

/** Where a playlist answer's `p/` and `s/` URIs live: on PUBLIC_URL when set, else relative to `requestPath`. */
export function playbackDirs(publicUrl: string | undefined, streamId: string, requestPath: string): { p: string; s: string } {
  const id = encodeURIComponent(streamId);
  if (publicUrl !== undefined) return { p: `${publicUrl}/hls/${id}/p/`, s: `${publicUrl}/hls/${id}/s/` };
  return { p: relativeDirRef(requestPath, `/hls/${id}/p/`), s: relativeDirRef(requestPath, `/hls/${id}/s/`) };
}
