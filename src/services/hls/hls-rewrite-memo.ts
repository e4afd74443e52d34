// Remembered rewrites of reloaded playlists: a live playlist is fetched again every few seconds and mostly repeats
// itself, so its known lines skip resolving and sealing. Bounded in contexts and in entries; losing it costs speed only.
import type { RewriteMemo } from '../../core/m3u8/rewrite.ts';
import type { UriKind } from '../../core/m3u8/rewrite.ts';

export const DEFAULT_MEMO_CONTEXTS = 1024;
/** A generation is never cut below this many entries, so tiny live playlists do not churn. */
const MIN_GENERATION = 256;
/** About 250 bytes an entry (reference, proxy URI, map slot): the default bounds the store near 64 MB. */
export const DEFAULT_MEMO_ENTRIES = 256_000;

/**
 * One playlist's memo in two generations. A new generation starts when the young one has grown past twice what one
 * fetch of the playlist looks up: a playlist that repeats itself hits the young generation only, and a sliding live
 * window sheds the segments that left it within about two window lengths.
 */
class PlaylistMemo implements RewriteMemo {
  young: Record<UriKind, Map<string, string>> = { p: new Map(), s: new Map() };
  old: Record<UriKind, Map<string, string>> = { p: new Map(), s: new Map() };
  /** Lookups since the last begin(): the size of the playlist's last fetch. */
  lookups = 0;

  /** `maxYoung` bounds a generation within one fetch too (issue 14.3): a huge or endless playlist rotates it. */
  constructor(readonly maxYoung: number) {}

  begin(): void {
    if (this.young.p.size + this.young.s.size > 2 * Math.max(this.lookups, MIN_GENERATION)) {
      this.old = this.young;
      this.young = { p: new Map(), s: new Map() };
    }
    this.lookups = 0;
  }

  get(kind: UriKind, ref: string): string | undefined {
    this.lookups++;
    const young = this.young[kind];
    const hit = young.get(ref);
    if (hit !== undefined) return hit;
    const aged = this.old[kind].get(ref);
    if (aged !== undefined) young.set(ref, aged);
    return aged;
  }

  set(kind: UriKind, ref: string, uri: string): void {
    if (this.young.p.size + this.young.s.size >= this.maxYoung) {
      this.old = this.young;
      this.young = { p: new Map(), s: new Map() };
    }
    this.young[kind].set(ref, uri);
  }

  get size(): number {
    return this.young.p.size + this.young.s.size + this.old.p.size + this.old.s.size;
  }
}

export interface RewriteMemoStore {
  /** The memo of one playlist as one client gets it; call once per request (it may start a new generation). */
  memoFor(streamId: string, clientId: string, baseUrl: string): RewriteMemo;
  /** Entries held now, for /stats and tests. */
  entries(): number;
}

export function createRewriteMemoStore(opts: { maxContexts?: number; maxEntries?: number } = {}): RewriteMemoStore {
  const maxContexts = opts.maxContexts ?? DEFAULT_MEMO_CONTEXTS;
  const maxEntries = opts.maxEntries ?? DEFAULT_MEMO_ENTRIES;
  // Insertion order is recency order: a context is re-inserted on every use, so the first one is the least recent.
  const contexts = new Map<string, PlaylistMemo>();

  function entries(): number {
    let n = 0;
    for (const m of contexts.values()) n += m.size;
    return n;
  }

  return {
    memoFor(streamId, clientId, baseUrl) {
      // Lengths first, so that no two different triples share a key.
      const key = `${streamId.length}:${clientId.length}:${streamId}${clientId}${baseUrl}`;
      let memo = contexts.get(key);
      if (memo) contexts.delete(key);
      else memo = new PlaylistMemo(Math.max(MIN_GENERATION, Math.floor(maxEntries / 2)));
      memo.begin();
      contexts.set(key, memo);
      // The bound is checked per request, not per entry: a single playlist may overshoot it until the next request.
      while (contexts.size > maxContexts) dropOldest();
      if (contexts.size > 1) {
        let total = entries();
        while (total > maxEntries && contexts.size > 1) total -= dropOldest();
      }
      return memo;
    },
    entries,
  };

  function dropOldest(): number {
    const first = contexts.keys().next();
    if (first.done === true) return 0;
    const size = contexts.get(first.value)?.size ?? 0;
    contexts.delete(first.value);
    return size;
  }
}
