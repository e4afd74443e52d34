// The in-memory registry of streams and client sessions: the only owner of that state, with an injected clock.
// It is pure bookkeeping (no I/O, no events): services decide what a change means and emit events.

import {
  capClientText,
  type ClientInfo,
  type ClientKind,
  type ClientLimits,
  type ClientRecord,
  type ExpiredSet,
  type StreamInput,
  type StreamRecord,
} from './stream-record.ts';
import { urlRing } from './url-ring.ts';

// The record types and the ring live in their own files; the registry re-exports them, as their one entry point.
export type { ClientInfo, ClientKind, ClientLimits, ClientRecord, ExpiredSet, ObservedType, SilenceSettings, StreamInput, StreamKind, StreamRecord } from './stream-record.ts';
export { capClientText, MAX_CLIENT_TEXT_BYTES, MAX_RESOLVED_URLS } from './stream-record.ts';
export { placeResolvedUrl, urlRing } from './url-ring.ts';

/** SPEC §16: viewers on other nodes, for counts that answer cluster-wide (absent: this process only). */
export interface ClientPresence {
  /** Viewers of the stream (or of every stream) on the other nodes, as last seen. */
  remoteCount(streamId?: string): number;
}

export interface Registry {
  readonly totalBytesServed: number;
  readonly totalSegmentsServed: number;
  /** Client records evicted to stay within the client limits, since start. */
  readonly clientEvictions: number;
  now(): number;
  upsertStream(id: string, input: StreamInput): { stream: StreamRecord; created: boolean };
  /** Start-up (SPEC §12): a saved stream comes back with its URL position and creation time, and no clients. */
  restoreStream(id: string, input: StreamInput, saved: { currentIndex: number; createdAt: number; running: boolean }): StreamRecord;
  getStream(id: string): StreamRecord | undefined;
  streams(): IterableIterator<StreamRecord>;
  streamCount(): number;
  /** Removes the stream and all its clients; returns what was removed. */
  deleteStream(id: string): { stream: StreamRecord; clients: ClientRecord[] } | undefined;
  /** HLS: the existing session for (stream, clientId) is touched and returned; created reports a first appearance. */
  touchHlsClient(stream: StreamRecord, clientId: string, info: ClientInfo): { client: ClientRecord; created: boolean };
  /** Continuous: every connection is its own session, so two connections with one id never remove each other. */
  openSession(stream: StreamRecord, clientId: string, info: ClientInfo): ClientRecord;
  /**
   * The idle HLS sessions that must go before a new client of `streamId` is added, so the records stay within the
   * limits; counted as evictions, and the caller must remove them (endClient). [] when `hlsClientId` names an HLS
   * client the stream already has, or when there is room. Continuous sessions hold a live connection: never chosen.
   */
  evictionsFor(streamId: string, hlsClientId: string | null): ClientRecord[];
  getClient(key: string): ClientRecord | undefined;
  findClient(streamId: string, clientId: string): ClientRecord[];
  removeClient(key: string): ClientRecord | undefined;
  clients(): IterableIterator<ClientRecord>;
  clientsOf(streamId: string): ClientRecord[];
  /** This node's sessions of a stream, relay sessions included (clientCount() counts the cluster's viewers). */
  localClientCount(streamId: string): number;
  clientCount(streamId?: string): number;
  /** Hot path: called per chunk written to a player. */
  addBytes(client: ClientRecord, stream: StreamRecord, bytes: number): void;
  addSegment(client: ClientRecord, stream: StreamRecord): void;
  touch(client: ClientRecord, stream: StreamRecord): void;
  /** HLS clients idle past clientTimeoutMs and client-less streams idle past streamTimeoutMs. Does not remove them. */
  findExpired(clientTimeoutMs: number, streamTimeoutMs: number): ExpiredSet;
  /** Continuous sessions that delivered bytes since the last call get lastAccess = now (a timer calls it, not the byte path). */
  refreshSessions(): void;
}

export class MemoryRegistry implements Registry {
  #streams = new Map<string, StreamRecord>();
  #clients = new Map<string, ClientRecord>();
  /** streamId -> keys of its client sessions; kept in step with #clients by the only two writers below. */
  #byStream = new Map<string, Set<string>>();
  #sessionSeq = 0;
  #bytes = 0;
  #segments = 0;
  #evictions = 0;
  readonly #limits: ClientLimits;
  readonly now: () => number;

  readonly #presence: ClientPresence | undefined;

  constructor(now: () => number = Date.now, limits: ClientLimits = { perStream: Infinity, total: Infinity }, presence?: ClientPresence) {
    this.now = now;
    this.#limits = limits;
    this.#presence = presence;
  }

  get clientEvictions(): number {
    return this.#evictions;
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
      applyOptions(existing, input);
      // The ring changed length: keep the index valid.
      if (existing.currentIndex >= urlRing(existing).length) existing.currentIndex = 0;
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
      resolverUrl: null,
      resolvedUrls: [],
      failoverAttempts: 0,
      lastFailoverAt: null,
      strictLiveTs: false,
      useStickySession: false,
      shareUpstream: true,
      silence: {},
      running: false,
      stickyUrls: new Map(),
      stalledUntil: new Map(),
    };
    applyOptions(stream, input);
    this.#streams.set(id, stream);
    this.#byStream.set(id, new Set());
    return { stream, created: true };
  }

  restoreStream(id: string, input: StreamInput, saved: { currentIndex: number; createdAt: number; running: boolean }): StreamRecord {
    const { stream } = this.upsertStream(id, input);
    const restored: StreamRecord = { ...stream, createdAt: saved.createdAt, running: saved.running };
    // An index past the end of the ring (a hand-edited file) starts from the primary, as an update would.
    restored.currentIndex = saved.currentIndex <= input.failoverUrls.length ? saved.currentIndex : 0;
    this.#streams.set(id, restored);
    return restored;
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
      if (info.username !== null) existing.username = capClientText(info.username);
      this.#markRecent(existing);
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

  /**
   * Map and Set keep insertion order: moving a touched session to the end keeps both in least-recently-active order,
   * so the first HLS session met is the one to evict, found without sorting.
   */
  #markRecent(client: ClientRecord): void {
    this.#clients.delete(client.key);
    this.#clients.set(client.key, client);
    const keys = this.#byStream.get(client.streamId);
    if (keys) {
      keys.delete(client.key);
      keys.add(client.key);
    }
  }

  evictionsFor(streamId: string, hlsClientId: string | null): ClientRecord[] {
    if (hlsClientId !== null && this.#clients.has(`${streamId}/hls/${hlsClientId}`)) return [];
    const victims: ClientRecord[] = [];
    if (this.clientCount(streamId) >= this.#limits.perStream) {
      for (const key of this.#byStream.get(streamId) ?? []) {
        const c = this.#clients.get(key);
        if (c?.kind === 'hls') {
          victims.push(c);
          break;
        }
      }
    }
    if (this.#clients.size - victims.length >= this.#limits.total) {
      for (const c of this.#clients.values()) {
        if (c.kind === 'hls' && c !== victims[0]) {
          victims.push(c);
          break;
        }
      }
    }
    this.#evictions += victims.length;
    return victims;
  }

  #add(key: string, stream: StreamRecord, clientId: string, kind: ClientKind, info: ClientInfo, t: number): ClientRecord {
    const client: ClientRecord = {
      key,
      clientId,
      streamId: stream.id,
      kind,
      userAgent: capClientText(info.userAgent),
      ip: capClientText(info.ip),
      username: info.username === null ? null : capClientText(info.username),
      bytesServed: 0,
      segmentsServed: 0,
      createdAt: t,
      lastAccess: t,
      bytesAtRefresh: 0,
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

  localClientCount(streamId: string): number {
    return this.#byStream.get(streamId)?.size ?? 0;
  }

  clientCount(streamId?: string): number {
    const local = streamId === undefined ? this.#clients.size : (this.#byStream.get(streamId)?.size ?? 0);
    const presence = this.#presence;
    if (presence === undefined) return local;
    let relays = 0;
    for (const c of streamId === undefined ? this.#clients.values() : this.clientsOf(streamId)) if (c.relay === true) relays++;
    return local - relays + presence.remoteCount(streamId);
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

  refreshSessions(): void {
    const t = this.now();
    for (const c of this.#clients.values()) {
      if (c.kind !== 'continuous' || c.bytesServed === c.bytesAtRefresh) continue;
      c.bytesAtRefresh = c.bytesServed;
      c.lastAccess = t;
      const stream = this.#streams.get(c.streamId);
      if (stream) stream.lastAccess = t;
    }
  }
}

/** Copies the per-stream options of a create; a re-create replaces them as it replaces the other fields. */
function applyOptions(stream: StreamRecord, input: StreamInput): void {
  const resolver = input.resolverUrl ?? null;
  // Resolved URLs belong to the resolver that gave them.
  if (resolver !== stream.resolverUrl) stream.resolvedUrls = [];
  stream.resolverUrl = resolver;
  stream.strictLiveTs = input.strictLiveTs ?? false;
  stream.useStickySession = input.useStickySession ?? false;
  stream.shareUpstream = input.shareUpstream ?? true;
  stream.silence = input.silence ?? {};
}
