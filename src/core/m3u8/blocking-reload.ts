// LL-HLS playlist delivery directives (draft-pantos-hls-rfc8216bis §6.2.5): the query parameters a player adds to a
// playlist request, which must reach the origin so that blocking reloads and delta updates work through the proxy.

/** The directives, in the order the spec lists them; nothing else of the player's query goes upstream. */
export const DELIVERY_DIRECTIVES = ['_HLS_msn', '_HLS_part', '_HLS_skip'] as const;

/** `_HLS_msn=..&_HLS_part=..` from the player's query, re-encoded; '' when it carried none. */
export function deliveryDirectives(query: URLSearchParams): string {
  let out = '';
  for (const name of DELIVERY_DIRECTIVES) {
    const value = query.get(name);
    if (value === null) continue;
    out += `${out === '' ? '' : '&'}${name}=${encodeURIComponent(value)}`;
  }
  return out;
}

/**
 * Appends `extra` (already encoded) to the query of an absolute URL, keeping its existing query bytes exactly
 * (no re-serialisation through URLSearchParams, which would re-encode provider tokens) and dropping any fragment.
 */
export function appendQuery(url: string, extra: string): string {
  if (extra === '') return url;
  const hash = url.indexOf('#');
  const bare = hash === -1 ? url : url.slice(0, hash);
  const q = bare.indexOf('?');
  if (q === -1) return `${bare}?${extra}`;
  return bare.endsWith('?') || bare.endsWith('&') ? bare + extra : `${bare}&${extra}`;
}
