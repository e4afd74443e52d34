// Per-viewer HLS state (rewrite memos, segment URIs across a failover), least recently used first out, and dropped
// with the viewer's session: what only one player can use is no use once that player is gone. Kept for the LRU bound
// alone, 1024 memos of players long gone held ~2 MB of buffers allocated while a burst of requests was served, and
// those pinned freed memory inside malloc's arena (issue 24 item 7).

interface Entry<V> {
  readonly streamId: string;
  readonly viewer: string;
  readonly value: V;
}

export class ViewerLru<V> {
  // Insertion order is recency order: an entry is re-inserted on every use, so the first one is the least recent.
  private readonly entries = new Map<string, Entry<V>>();
  /** Each viewer's keys: a player has one per playlist it reloads (a few), so a list is enough. */
  private readonly byViewer = new Map<string, string[]>();
  /** Each stream's viewers that have entries. */
  private readonly byStream = new Map<string, Set<string>>();

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

  /** Adds a value not held yet, as the most recent, for one client of one stream. */
  add(streamId: string, clientId: string, key: string, value: V): void {
    // Lengths first, so that no two pairs run together.
    const viewer = `${streamId.length}:${streamId}${clientId}`;
    this.entries.set(key, { streamId, viewer, value });
    const keys = this.byViewer.get(viewer);
    if (keys !== undefined) {
      keys.push(key);
      return;
    }
    this.byViewer.set(viewer, [key]);
    const viewers = this.byStream.get(streamId);
    if (viewers === undefined) this.byStream.set(streamId, new Set([viewer]));
    else viewers.add(viewer);
  }

  /** Drops the least recent entry; returns its value. */
  dropOldest(): V | undefined {
    const first = this.entries.entries().next();
    if (first.done === true) return undefined;
    const [key, e] = first.value;
    this.entries.delete(key);
    const keys = this.byViewer.get(e.viewer);
    if (keys !== undefined) {
      const i = keys.indexOf(key);
      if (i !== -1) keys.splice(i, 1);
      if (keys.length === 0) this.dropViewer(e.streamId, e.viewer);
    }
    return e.value;
  }

  *values(): IterableIterator<V> {
    for (const e of this.entries.values()) yield e.value;
  }

  /** Drops every entry of one client of one stream (its session ended). */
  forget(streamId: string, clientId: string): void {
    this.forgetViewer(streamId, `${streamId.length}:${streamId}${clientId}`);
  }

  /** Drops every entry of one stream's viewers (the stream was removed). */
  forgetStream(streamId: string): void {
    for (const viewer of this.byStream.get(streamId) ?? []) this.forgetViewer(streamId, viewer);
  }

  private forgetViewer(streamId: string, viewer: string): void {
    const keys = this.byViewer.get(viewer);
    if (keys === undefined) return;
    for (const k of keys) this.entries.delete(k);
    this.dropViewer(streamId, viewer);
  }

  private dropViewer(streamId: string, viewer: string): void {
    this.byViewer.delete(viewer);
    const viewers = this.byStream.get(streamId);
    viewers?.delete(viewer);
    if (viewers?.size === 0) this.byStream.delete(streamId);
  }
}
