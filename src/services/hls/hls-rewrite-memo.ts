// Remembered rewrites of reloaded playlists: a live playlist is fetched again every few seconds and mostly repeats
// itself, so its known lines skip resolving and sealing, and keep the URIs the player already has (hls.js refuses a
// media sequence number that comes back with another URI). Bounded in contexts and in entries.
//
// A fetch is recorded in playlist order (memo-generation.ts), not in a map: the first fetch of a 20,000-segment
// playlist then costs a few offsets per URI (its bytes stay in the output they were written to) instead of two map
// operations and a retained string, and a reload matches its lines in order against the last fetch, which is how a
// sliding live window or a reloaded VOD repeats itself (issue 12 item 7).
import type { ByteSink } from '../../core/byte-sink.ts';
import type { RewriteMemo } from '../../core/m3u8/rewrite-context.ts';
import { Generation } from './memo-generation.ts';
import { ViewerLru } from './viewer-lru.ts';

export const DEFAULT_MEMO_CONTEXTS = 1024;
/**
 * About 250 bytes an entry (reference, proxy URI and the EXTINF line kept beside it, offsets, the output buffer's
 * slack): the default bounds the store near 64 MB.
 */
export const DEFAULT_MEMO_ENTRIES = 256_000;
/** References of this fetch checked before it is called new: a key or init URI repeated per segment, a byte-range file. */
const RECENT = 4;

/** The memo of one request: reads the context's last complete fetch, records this one, and hands it over at the end. */
class Session implements RewriteMemo {
  private readonly cur: Generation;
  private cursor = 0;
  /** Entries of `cur` last recorded: a reference repeated within this fetch is looked for among them. */
  private readonly recent = new Int32Array(RECENT).fill(-1);
  private recentAt = 0;

  constructor(
    private readonly owner: PlaylistMemo,
    private readonly prev: Generation | undefined,
    private readonly cap: number,
  ) {
    this.cur = new Generation();
  }

  /** The entry of `prev` (≥ 0) or of `cur` (−2 − i) for `ref`, or −1; a hit in `prev` is recorded in `cur`. */
  private lookup(ref: string): number {
    const prev = this.prev;
    if (prev !== undefined) {
      const c = this.cursor;
      // In order first: a reload repeats the last fetch, shifted by the segments that left a live window.
      const at = c < prev.count && prev.is(c, ref) ? c : prev.find(ref);
      if (at !== -1) {
        this.cursor = at + 1;
        if (this.cur.count < this.cap) {
          this.cur.addFrom(prev, at);
          this.remember(this.cur.count - 1);
        }
        return at;
      }
    }
    for (let k = 0; k < RECENT; k++) {
      const i = this.recent[k]!;
      if (i >= 0 && this.cur.is(i, ref)) return -2 - i;
    }
    return -1;
  }

  get(ref: string): string | undefined {
    const at = this.lookup(ref);
    if (at === -1) return undefined;
    return at >= 0 ? this.prev!.uri(at) : this.cur.uri(-2 - at);
  }

  copyTo(ref: string, sink: ByteSink): boolean {
    const at = this.lookup(ref);
    if (at === -1) return false;
    if (at >= 0) this.prev!.copyUri(at, sink);
    else this.cur.copyUri(-2 - at, sink);
    return true;
  }

  set(ref: string, uri: string): void {
    this.record(ref, uri);
  }

  setBytes(ref: string, src: Buffer, start: number, end: number): void {
    if (this.cur.count >= this.cap) return;
    this.cur.addBytes(ref, src, start, end);
    this.remember(this.cur.count - 1);
  }

  end(endList: boolean): void {
    // A VOD playlist is not reloaded by players (RFC 8216 §6.3.4): its first fetch is remembered only as fetched, and
    // kept from its second on. A big one fetched once (by each viewer) then holds no memory, and its first fetch does
    // not wait for the fresh pages that memory would take.
    if (endList && this.prev === undefined && !this.owner.fetched) {
      this.owner.fetched = true;
      return;
    }
    this.cur.end();
    this.owner.last = this.cur;
  }

  private record(ref: string, uri: string): void {
    // Past the cap the first `cap` references stay remembered, and the rest of a huge playlist is sealed again.
    if (this.cur.count >= this.cap) return;
    this.cur.add(ref, uri);
    this.remember(this.cur.count - 1);
  }

  private remember(i: number): void {
    this.recent[this.recentAt] = i;
    this.recentAt = (this.recentAt + 1) % RECENT;
  }
}

/** One playlist as one client gets it: its last completely rewritten fetch. */
class PlaylistMemo {
  last: Generation | undefined;
  /** A VOD playlist's first complete fetch happened (and was not kept). */
  fetched = false;

  constructor(readonly cap: number) {}

  begin(): Session {
    return new Session(this, this.last, this.cap);
  }

  get size(): number {
    return this.last?.count ?? 0;
  }
}

export interface RewriteMemoStore {
  /** The memo of one request for one playlist as one client gets it; call once per request. */
  memoFor(streamId: string, clientId: string, baseUrl: string): RewriteMemo;
  /** Entries held now, for /stats and tests. */
  entries(): number;
  /** Contexts held now, for tests. */
  contexts(): number;
  /** Drops one client's memos: its session ended, and a returning player starts a new one. */
  forget(streamId: string, clientId: string): void;
  /** Drops the memos of a removed stream. */
  forgetStream(streamId: string): void;
}

export function createRewriteMemoStore(opts: { maxContexts?: number; maxEntries?: number } = {}): RewriteMemoStore {
  const maxContexts = opts.maxContexts ?? DEFAULT_MEMO_CONTEXTS;
  const maxEntries = opts.maxEntries ?? DEFAULT_MEMO_ENTRIES;
  const contexts = new ViewerLru<PlaylistMemo>();

  function entries(): number {
    let n = 0;
    for (const m of contexts.values()) n += m.size;
    return n;
  }

  return {
    memoFor(streamId, clientId, baseUrl) {
      // Lengths first, so that no two different triples share a key.
      const key = `${streamId.length}:${clientId.length}:${streamId}${clientId}${baseUrl}`;
      let memo = contexts.use(key);
      if (memo === undefined) contexts.add(streamId, clientId, key, (memo = new PlaylistMemo(Math.max(1, maxEntries))));
      // The bound is checked per request, not per entry: the playlist in use may hold up to maxEntries by itself.
      while (contexts.size > maxContexts) contexts.dropOldest();
      if (contexts.size > 1) {
        let total = entries();
        while (total > maxEntries && contexts.size > 1) total -= contexts.dropOldest()?.size ?? 0;
      }
      return memo.begin();
    },
    entries,
    contexts: () => contexts.size,
    forget: (streamId, clientId) => contexts.forget(streamId, clientId),
    forgetStream: (streamId) => contexts.forgetStream(streamId),
  };
}
