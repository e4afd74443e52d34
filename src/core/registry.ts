// The in-memory registry of streams and client sessions: the only owner of that state, with an injected clock.
// It is pure bookkeeping (no I/O, no events): services decide what a change means and emit events.

export type StreamKind = 'hls' | 'direct';
export type ObservedType = 'HLS' | 'VOD' | 'Live Continuous';
export type ClientKind = 'hls' | 'continuous';

export interface StreamInput {
  url: string;
  failoverUrls: string[];
  userAgent: string | null;
  headers: Record<string, string>;
  metadata: Record<string, string>;
  kind: StreamKind;
  /** SPEC §5.5; absent means the default (SHARE_LIVE_UPSTREAM). */
  shareUpstream?: boolean;
}

export interface StreamRecord {
  readonly id: string;
  readonly url: string;
  failoverUrls: string[];
  /** null: the configured default User-Agent applies. */
  userAgent: string | null;
  headers: Record<string, string>;
  metadata: Record<string, string>;
  readonly kind: StreamKind;
  /** What the origin turned out to serve, once a player has fetched it. */
  observedType: ObservedType | null;
  /** Position in the ring [url, ...failoverUrls] that new connections start from. */
  currentIndex: number;
  failoverCount: number;
  errorCount: number;
  bytesServed: number;
  segmentsServed: number;
  readonly createdAt: number;
  lastAccess: number;
  /** SPEC §5.5: live continuous viewers share one upstream connection. */
  shareUpstream: boolean;
}

export interface ClientInfo {
  userAgent: string;
  ip: string;
  username: string | null;
}

export interface ClientRecord extends ClientInfo {
  /** Unique per session: HLS clients have one per (stream, client id), continuous clients one per connection. */
  readonly key: string;
  readonly clientId: string;
  readonly streamId: string;
  readonly kind: ClientKind;
  bytesServed: number;
  segmentsServed: number;
  readonly createdAt: number;
  lastAccess: number;
}

export interface ExpiredSet {
  clients: ClientRecord[];
  streams: StreamRecord[];
}

/** The narrow store interface services use; another store could implement it. */
export interface Registry {
  readonly totalBytesServed: number;
  readonly totalSegmentsServed: number;
  now(): number;
  upsertStream(id: string, input: StreamInput): { stream: StreamRecord; created: boolean };
  getStream(id: string): StreamRecord | undefined;
  streams(): IterableIterator<StreamRecord>;
  streamCount(): number;
  /** Removes the stream and all its clients; returns what was removed. */
  deleteStream(id: string): { stream: StreamRecord; clients: ClientRecord[] } | undefined;
  /** HLS: the existing session for (stream, clientId) is touched and returned; created reports a first appearance. */
  touchHlsClient(stream: StreamRecord, clientId: string, info: ClientInfo): { client: ClientRecord; created: boolean };
  /** Continuous: every connection is its own session, so two connections with one id never remove each other. */
  openSession(stream: StreamRecord, clientId: string, info: ClientInfo): ClientRecord;
  getClient(key: string): ClientRecord | undefined;
  findClient(streamId: string, clientId: string): ClientRecord[];
  removeClient(key: string): ClientRecord | undefined;
  clients(): IterableIterator<ClientRecord>;
  clientsOf(streamId: string): ClientRecord[];
  clientCount(streamId?: string): number;
  /** Hot path: called per chunk written to a player. */
  addBytes(client: ClientRecord, stream: StreamRecord, bytes: number): void;
  addSegment(client: ClientRecord, stream: StreamRecord): void;
  touch(client: ClientRecord, stream: StreamRecord): void;
  /** HLS clients idle past clientTimeoutMs and client-less streams idle past streamTimeoutMs. Does not remove them. */
  findExpired(clientTimeoutMs: number, streamTimeoutMs: number): ExpiredSet;
}

export class MemoryRegistry implements Registry {
  #streams = new Map<string, StreamRecord>();
  #clients = new Map<string, ClientRecord>();
  /** streamId -> keys of its client sessions; kept in step with #clients by the only two writers below. */
  #byStream = new Map<string, Set<string>>();
  #sessionSeq = 0;
  #bytes = 0;
  #segments = 0;
  readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  get totalBytesServed(): number {
    return this.#bytes;
  }

  get totalSegmentsServed(): number {
    return this.#segments;
  }

  upsertStream(id: string, input: StreamInput): { stream: StreamRecord; created: boolean } {
    const existing = this.#streams.get(id);
    const t = this.now();
    if (existing) {
      existing.failoverUrls = input.failoverUrls;
      existing.userAgent = input.userAgent;
      existing.headers = input.headers;
      existing.metadata = input.metadata;
      existing.shareUpstream = input.shareUpstream ?? true;
      // The ring changed length: keep the index valid.
      if (existing.currentIndex > existing.failoverUrls.length) existing.currentIndex = 0;
      existing.lastAccess = t;
      return { stream: existing, created: false };
    }
    const stream: StreamRecord = {
      id,
      url: input.url,
      failoverUrls: input.failoverUrls,
      userAgent: input.userAgent,
      headers: input.headers,
      metadata: input.metadata,
      kind: input.kind,
      observedType: null,
      currentIndex: 0,
      failoverCount: 0,
      errorCount: 0,
      bytesServed: 0,
      segmentsServed: 0,
      createdAt: t,
      lastAccess: t,
      shareUpstream: input.shareUpstream ?? true,
    };
    this.#streams.set(id, stream);
    this.#byStream.set(id, new Set());
    return { stream, created: true };
  }

  getStream(id: string): StreamRecord | undefined {
    return this.#streams.get(id);
  }

  streams(): IterableIterator<StreamRecord> {
    return this.#streams.values();
  }

  streamCount(): number {
    return this.#streams.size;
  }

  deleteStream(id: string): { stream: StreamRecord; clients: ClientRecord[] } | undefined {
    const stream = this.#streams.get(id);
    if (!stream) return undefined;
    const clients = this.clientsOf(id);
    for (const c of clients) this.#clients.delete(c.key);
    this.#byStream.delete(id);
    this.#streams.delete(id);
    return { stream, clients };
  }

  touchHlsClient(stream: StreamRecord, clientId: string, info: ClientInfo): { client: ClientRecord; created: boolean } {
    const key = `${stream.id}/hls/${clientId}`;
    const existing = this.#clients.get(key);
    const t = this.now();
    stream.lastAccess = t;
    if (existing) {
      existing.lastAccess = t;
      if (info.username !== null) existing.username = info.username;
      return { client: existing, created: false };
    }
    const client = this.#add(key, stream, clientId, 'hls', info, t);
    return { client, created: true };
  }

  openSession(stream: StreamRecord, clientId: string, info: ClientInfo): ClientRecord {
    const t = this.now();
    stream.lastAccess = t;
    return this.#add(`${stream.id}/ts/${clientId}/${++this.#sessionSeq}`, stream, clientId, 'continuous', info, t);
  }

  #add(key: string, stream: StreamRecord, clientId: string, kind: ClientKind, info: ClientInfo, t: number): ClientRecord {
    const client: ClientRecord = {
      key,
      clientId,
      streamId: stream.id,
      kind,
      userAgent: info.userAgent,
      ip: info.ip,
      username: info.username,
      bytesServed: 0,
      segmentsServed: 0,
      createdAt: t,
      lastAccess: t,
    };
    this.#clients.set(key, client);
    let keys = this.#byStream.get(stream.id);
    if (!keys) {
      keys = new Set();
      this.#byStream.set(stream.id, keys);
    }
    keys.add(key);
    return client;
  }

  getClient(key: string): ClientRecord | undefined {
    return this.#clients.get(key);
  }

  findClient(streamId: string, clientId: string): ClientRecord[] {
    return this.clientsOf(streamId).filter((c) => c.clientId === clientId);
  }

  removeClient(key: string): ClientRecord | undefined {
    const client = this.#clients.get(key);
    if (!client) return undefined;
    this.#clients.delete(key);
    this.#byStream.get(client.streamId)?.delete(key);
    const stream = this.#streams.get(client.streamId);
    // The stream's idle clock starts when its last client leaves.
    if (stream) stream.lastAccess = this.now();
    return client;
  }

  clients(): IterableIterator<ClientRecord> {
    return this.#clients.values();
  }

  clientsOf(streamId: string): ClientRecord[] {
    const keys = this.#byStream.get(streamId);
    const out: ClientRecord[] = [];
    if (!keys) return out;
    for (const key of keys) {
      const c = this.#clients.get(key);
      if (c) out.push(c);
    }
    return out;
  }

  clientCount(streamId?: string): number {
    if (streamId === undefined) return this.#clients.size;
    return this.#byStream.get(streamId)?.size ?? 0;
  }

  addBytes(client: ClientRecord, stream: StreamRecord, bytes: number): void {
    client.bytesServed += bytes;
    stream.bytesServed += bytes;
    this.#bytes += bytes;
  }

  addSegment(client: ClientRecord, stream: StreamRecord): void {
    client.segmentsServed += 1;
    stream.segmentsServed += 1;
    this.#segments += 1;
  }

  touch(client: ClientRecord, stream: StreamRecord): void {
    const t = this.now();
    client.lastAccess = t;
    stream.lastAccess = t;
  }

  findExpired(clientTimeoutMs: number, streamTimeoutMs: number): ExpiredSet {
    const t = this.now();
    const clients: ClientRecord[] = [];
    const leaving = new Map<string, number>();
    for (const c of this.#clients.values()) {
      // Continuous sessions end with their connection, never by idleness.
      if (c.kind === 'hls' && t - c.lastAccess >= clientTimeoutMs) {
        clients.push(c);
        leaving.set(c.streamId, (leaving.get(c.streamId) ?? 0) + 1);
      }
    }
    const streams: StreamRecord[] = [];
    for (const s of this.#streams.values()) {
      const remaining = this.clientCount(s.id) - (leaving.get(s.id) ?? 0);
      if (remaining === 0 && t - s.lastAccess >= streamTimeoutMs) streams.push(s);
    }
    return { clients, streams };
  }
}

/** The ring of URLs a stream plays from: [primary, ...failovers]. */
export function urlRing(stream: StreamRecord): string[] {
  return [stream.url, ...stream.failoverUrls];
}
