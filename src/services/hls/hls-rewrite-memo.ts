// Remembered rewrites of reloaded playlists: a live playlist is fetched again every few seconds and mostly repeats
// itself, so its known lines skip resolving and sealing, and keep the URIs the player already has (hls.js refuses a
// media sequence number that comes back with another URI). Bounded in contexts and in entries.
//
// A fetch is recorded as two arrays in playlist order, not as a map: the first fetch of a 20,000-segment playlist
// then costs two array pushes per URI instead of two map operations, and a reload matches its lines in order against
// the last fetch, which is how a sliding live window or a reloaded VOD repeats itself (issue 12 item 7).
import type { RewriteMemo } from '../../core/m3u8/rewrite.ts';

export const DEFAULT_MEMO_CONTEXTS = 1024;
/** About 250 bytes an entry (reference, proxy URI, array slots): the default bounds the store near 64 MB. */
export const DEFAULT_MEMO_ENTRIES = 256_000;
/** References of this fetch checked before it is called new: a key or init URI repeated per segment, a byte-range file. */
const RECENT = 4;

/** One fetch's references and the URIs they were given, in playlist order. */
class Generation {
  readonly refs: string[] = [];
  readonly uris: string[] = [];
  private index: Map<string, number> | undefined;

  /** Where `ref` first is; the index is built once, by the first lookup that needs it. */
  find(ref: string): number {
    if (this.index === undefined) {
      this.index = new Map();
      for (let i = this.refs.length - 1; i >= 0; i--) this.index.set(this.refs[i]!, i);
    }
    return this.index.get(ref) ?? -1;
  }
}

/** The memo of one request: reads the context's last complete fetch, records this one, and hands it over at the end. */
class Session implements RewriteMemo {
  private readonly cur = new Generation();
  private cursor = 0;
  private readonly recentRefs: string[] = new Array<string>(RECENT).fill('');
  private readonly recentUris: string[] = new Array<string>(RECENT).fill('');
  private recentAt = 0;

  constructor(
    private readonly owner: PlaylistMemo,
    private readonly prev: Generation | undefined,
    private readonly cap: number,
  ) {}

  get(ref: string): string | undefined {
    const prev = this.prev;
    if (prev !== undefined) {
      const c = this.cursor;
      // In order first: a reload repeats the last fetch, shifted by the segments that left a live window.
      const at = c < prev.refs.length && prev.refs[c] === ref ? c : prev.find(ref);
      if (at !== -1) {
        this.cursor = at + 1;
        return this.keep(ref, prev.uris[at]!);
      }
    }
    for (let i = 0; i < RECENT; i++) if (this.recentRefs[i] === ref) return this.keep(ref, this.recentUris[i]!);
    return undefined;
  }

  set(ref: string, uri: string): void {
    this.keep(ref, uri);
  }

  end(): void {
    this.owner.last = this.cur;
  }

  private keep(ref: string, uri: string): string {
    // Past the cap the first `cap` references stay remembered, and the rest of a huge playlist is sealed again.
    if (this.cur.refs.length < this.cap) {
      this.cur.refs.push(ref);
      this.cur.uris.push(uri);
    }
    const i = this.recentAt;
    this.recentRefs[i] = ref;
    this.recentUris[i] = uri;
    this.recentAt = i === RECENT - 1 ? 0 : i + 1;
    return uri;
  }
}

/** One playlist as one client gets it: its last completely rewritten fetch. */
class PlaylistMemo {
  last: Generation | undefined;

  constructor(readonly cap: number) {}

  begin(): Session {
    return new Session(this, this.last, this.cap);
  }

  get size(): number {
    return this.last?.refs.length ?? 0;
  }
}

export interface RewriteMemoStore {
  /** The memo of one request for one playlist as one client gets it; call once per request. */
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
      else memo = new PlaylistMemo(Math.max(1, maxEntries));
      contexts.set(key, memo);
      // The bound is checked per request, not per entry: the playlist in use may hold up to maxEntries by itself.
      while (contexts.size > maxContexts) dropOldest();
      if (contexts.size > 1) {
        let total = entries();
        while (total > maxEntries && contexts.size > 1) total -= dropOldest();
      }
      return memo.begin();
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
