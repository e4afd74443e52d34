// A bounded in-memory cache of recent upstream answers (issue 10 item 7): live segments for the viewers after the
// first, and media playlists for reloads within half a target duration. Bounded by bytes (least recently used goes
// first) and by age; an answer bigger than the per-entry cap is never held. Pure: time comes from `now`.

export interface CacheEntry<V> {
  value: V;
  bytes: number;
  expiresAtMs: number;
}

export const DEFAULT_SEGMENT_CACHE_BYTES = 64 * 1024 * 1024;

export type ByteCache<V> = ReturnType<typeof createByteCache<V>>;

export function createByteCache<V>(opts: { maxBytes: number; maxEntryBytes?: number; now?: () => number }) {
  const { maxBytes } = opts;
  const maxEntryBytes = Math.min(maxBytes, opts.maxEntryBytes ?? Math.floor(maxBytes / 4));
  const now = opts.now ?? Date.now;
  // Insertion order is recency order: a hit re-inserts its entry.
  const entries = new Map<string, CacheEntry<V>>();
  let bytes = 0;

  function remove(key: string): void {
    const e = entries.get(key);
    if (!e) return;
    entries.delete(key);
    bytes -= e.bytes;
  }

  return {
    maxEntryBytes,
    /** Whether an answer of `size` bytes may be cached at all: callers check before capturing it. */
    fits: (size: number): boolean => size <= maxEntryBytes,

    get(key: string): V | undefined {
      const e = entries.get(key);
      if (!e) return undefined;
      if (e.expiresAtMs <= now()) {
        remove(key);
        return undefined;
      }
      entries.delete(key);
      entries.set(key, e);
      return e.value;
    },

    set(key: string, value: V, size: number, ttlMs: number): void {
      remove(key);
      if (size > maxEntryBytes || ttlMs <= 0) return;
      entries.set(key, { value, bytes: size, expiresAtMs: now() + ttlMs });
      bytes += size;
      // Expired entries leave on their next get() or here, as the least recently used, whichever comes first.
      for (const k of entries.keys()) {
        if (bytes <= maxBytes) break;
        remove(k);
      }
    },

    delete: remove,
    bytes: (): number => bytes,
    size: (): number => entries.size,
  };
}

/** RFC 9110 §14.1.2: one byte range of a body of `size` bytes → [first, last]; undefined when unsatisfiable or not a single range. */
export function parseByteRange(header: string, size: number): [number, number] | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    return n === 0 || size === 0 ? undefined : [Math.max(0, size - n), size - 1];
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(size - 1, Number(m[2]));
  return start >= size || end < start ? undefined : [start, end];
}
