// Live player connections per stream: the handles that let DELETE, kick and manual failover reach open responses.
import type { ClientRecord } from '../../core/registry.ts';

export interface LiveConnection {
  readonly client: ClientRecord;
  /** Ends the player's connection now and releases its upstream socket. Idempotent. */
  abort(reason: string): void;
  /** Moves the connection to the stream's current URL without closing the player's side (continuous only). */
  switchUrl?(reason: string): void;
  /** A viewer of a stream's shared live upstream (SPEC §5.5): it holds no upstream socket of its own. */
  readonly shared?: boolean;
}

export class ConnectionTracker {
  #byStream = new Map<string, Set<LiveConnection>>();

  /** Registers a connection; the returned function unregisters it and must be called exactly once, in a finally. */
  add(conn: LiveConnection): () => void {
    const id = conn.client.streamId;
    let set = this.#byStream.get(id);
    if (!set) {
      set = new Set();
      this.#byStream.set(id, set);
    }
    set.add(conn);
    return () => {
      const current = this.#byStream.get(id);
      if (!current) return;
      current.delete(conn);
      if (current.size === 0) this.#byStream.delete(id);
    };
  }

  ofStream(streamId: string): LiveConnection[] {
    return [...(this.#byStream.get(streamId) ?? [])];
  }

  /** Open connections of one stream: each holds at most one upstream request (StreamStat upstream_connections). */
  countOf(streamId: string): number {
    return this.#byStream.get(streamId)?.size ?? 0;
  }

  count(): number {
    let n = 0;
    for (const set of this.#byStream.values()) n += set.size;
    return n;
  }

  abortStream(streamId: string, reason: string): number {
    const conns = this.ofStream(streamId);
    for (const c of conns) c.abort(reason);
    return conns.length;
  }

  abortClient(streamId: string, clientId: string, reason: string): number {
    const conns = this.ofStream(streamId).filter((c) => c.client.clientId === clientId);
    for (const c of conns) c.abort(reason);
    return conns.length;
  }

  abortAll(reason: string): void {
    for (const id of [...this.#byStream.keys()]) this.abortStream(id, reason);
  }

  /** Manual failover: every continuous connection of the stream moves to the stream's new current URL. */
  switchStream(streamId: string, reason: string): number {
    let n = 0;
    for (const c of this.ofStream(streamId)) {
      if (c.switchUrl) {
        c.switchUrl(reason);
        n++;
      }
    }
    return n;
  }
}
