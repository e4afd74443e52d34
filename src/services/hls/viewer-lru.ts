// Per-viewer HLS state (rewrite memos, segment URIs across a failover), least recently used first out, and dropped
// with the viewer's session: what only one player can use is no use once that player is gone. Kept for the LRU bound
// alone, 1024 memos of players long gone held ~2 MB of buffers allocated while a burst of requests was served, and
// those pinned a further ~15 MB of freed memory inside malloc's arena (issue 24 item 7).

/** The viewer a key belongs to: one client id of one stream (lengths first, so no two pairs run together). */
export function viewerOf(streamId: string, clientId: string): string {
  return `${streamId.length}:${streamId}${clientId}`;
}

interface Entry<V> {
  readonly viewer: string;
  readonly value: V;
}

export class ViewerLru<V> {
  // Insertion order is recency order: an entry is re-inserted on every use, so the first one is the least recent.
  private readonly entries = new Map<string, Entry<V>>();
  /** Each viewer's keys: a player has one per playlist it reloads (a few), so a list is enough. */
  private readonly byViewer = new Map<string, string[]>();

  get size(): number {
    return this.entries.size;
  }

  /** The value under `key`, made the most recent. */
  use(key: string): V | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.value;
  }

  /** Adds a value not held yet, as the most recent. */
  add(viewer: string, key: string, value: V): void {
    this.entries.set(key, { viewer, value });
    const keys = this.byViewer.get(viewer);
    if (keys === undefined) this.byViewer.set(viewer, [key]);
    else keys.push(key);
  }

  /** Drops the least recent entry; returns its value. */
  dropOldest(): V | undefined {
    const first = this.entries.keys().next();
    if (first.done === true) return undefined;
    return this.drop(first.value);
  }

  *values(): IterableIterator<V> {
    for (const e of this.entries.values()) yield e.value;
  }

  /** Drops every entry of one viewer (its session ended). */
  forget(viewer: string): void {
    const keys = this.byViewer.get(viewer);
    if (keys === undefined) return;
    this.byViewer.delete(viewer);
    for (const k of keys) this.entries.delete(k);
  }

  /** Drops every entry of one stream's viewers (the stream was removed). */
  forgetStream(streamId: string): void {
    const prefix = `${streamId.length}:${streamId}`;
    for (const viewer of [...this.byViewer.keys()]) if (viewer.startsWith(prefix)) this.forget(viewer);
  }

  private drop(key: string): V | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    this.entries.delete(key);
    const keys = this.byViewer.get(e.viewer);
    if (keys !== undefined) {
      const i = keys.indexOf(key);
      if (i !== -1) keys.splice(i, 1);
      if (keys.length === 0) this.byViewer.delete(e.viewer);
    }
    return e.value;
  }
}
