// Stream and client lifecycle: the only writer of the registry, and the one place that turns its changes into events.
import type { EventBus, EventType } from '../core/events.ts';
import { type ClientInfo, type ClientRecord, placeResolvedUrl, type Registry, type StreamInput, type StreamRecord, urlRing } from '../core/registry.ts';
import { ConflictError, NotFoundError, ResolverError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ConnectionTracker } from './upstream/connections.ts';
import { NO_STATE, type StateSync } from './state/sync.ts';
import type { FailoverResolver } from './upstream/resolver.ts';
import { createHash } from 'node:crypto';

/**
 * SPEC §16, so that each event is emitted once cluster-wide: a `relay` session is another node fetching a stream
 * from its owner here (no client events: that node reports its own viewer); a `relayed` viewer is fed from another
 * node (no stream_started/stopped here: the owner, which holds the provider connection, emits them).
 */
export type SessionRole = 'viewer' | 'relay' | 'relayed';

export type DisconnectReason = 'closed' | 'deleted' | 'kicked' | 'timeout' | 'error' | 'shutdown' | 'evicted';

/** stream_stopped's data.reason, the reference's words (SPEC §6). */
export type StopReason =
  | 'last_client_disconnected'
  | 'manual_deletion'
  | 'metadata_filter_deletion'
  | 'oldest_stream_deletion'
  | 'inactive_timeout'
  | 'shutdown';

export interface StreamServiceDeps {
  registry: Registry;
  bus: EventBus;
  connections: ConnectionTracker;
  logger: Logger;
  defaultUserAgent: string;
  /** Durable state (SPEC §12): told of every change to a stream's definition or URL position. */
  state?: StateSync;
  /** SHARE_LIVE_UPSTREAM: a stream's share_upstream when its create names none (default true). */
  shareLiveUpstream?: boolean;
  /** Asked on a manual failover of a stream with a failover_resolver_url. */
  resolver?: FailoverResolver;
  /** SPEC §16: where definitions are shared with other nodes; absent, they live in this process only. */
  directory?: StreamDirectory;
}

/** SPEC §16: told of every create and delete made on this node, so the other nodes apply it too. */
export interface StreamDirectory {
  published(id: string, input: StreamInput): void;
  removed(id: string): void;
  /** The stream's URL position changed (a failover). */
  moved(id: string, index: number): void;
  /** Resolves once every change told so far is shared; a route awaits it with saved(). */
  flushed(): Promise<void>;
}

export type StreamService = ReturnType<typeof createStreamService>;

/** SPEC §3.1: the id is the lowercase hex MD5 of the URL exactly as given. */
export function streamIdFor(url: string): string {
  return createHash('md5').update(url).digest('hex');
}

export function createStreamService(deps: StreamServiceDeps) {
  const { registry, bus, connections, logger } = deps;
  const state = deps.state ?? NO_STATE;

  function emit(type: EventType, stream: StreamRecord, data: Record<string, unknown> = {}): void {
    bus.emit(type, stream.id, { ...data, metadata: { ...stream.metadata } });
  }

  /** stream_started, unless the stream is running already: started and stopped alternate (SPEC §6). */
  function markStarted(stream: StreamRecord): void {
    if (stream.running) return;
    stream.running = true;
    state.changed();
    emit('stream_started', stream, {
      primary_url: stream.url,
      failover_urls: [...stream.failoverUrls],
      user_agent: stream.userAgent ?? deps.defaultUserAgent,
      stream_type: stream.kind,
    });
  }

  /** stream_stopped, once per start. */
  function markStopped(stream: StreamRecord, reason: StopReason): void {
    if (!stream.running) return;
    stream.running = false;
    if (reason !== 'shutdown') state.changed();
    emit('stream_stopped', stream, { reason, total_bytes_served: stream.bytesServed });
    logger.info('stream stopped', { stream: stream.id, reason });
  }

  function clientData(c: ClientRecord): Record<string, unknown> {
    return { client_id: c.clientId, ip_address: c.ip, user_agent: c.userAgent, username: c.username };
  }

  /** Removes one client session and emits client_disconnected, once: a second call for the same session is a no-op. */
  function endClient(client: ClientRecord, reason: DisconnectReason): void {
    const removed = registry.removeClient(client.key);
    if (!removed) return;
    for (const listener of endedListeners) listener(removed);
    const quiet = removed.relay === true;
    const stream = registry.getStream(client.streamId);
    const data = {
      ...clientData(removed),
      reason,
      bytes_served: removed.bytesServed,
      segments_served: removed.segmentsServed,
      duration_seconds: Math.max(0, (registry.now() - removed.createdAt) / 1000),
    };
    if (stream && !quiet) emit('client_disconnected', stream, data);
    logger.info(quiet ? 'relay session ended' : 'client disconnected', {
      stream: removed.streamId,
      client: removed.clientId,
      reason,
      bytes: removed.bytesServed,
    });
    // The editor counts provider connections by these events: the last viewer gone stops the stream at once. A stream
    // being removed stops with the removal's reason instead (its viewers may end synchronously while it is aborted).
    // This node's sessions, relay sessions included: on one node the same as clientCount; in a cluster the owner
    // stops when its provider connection has nobody left to feed, whatever the other nodes' counts say.
    if (stream && !removing.has(stream.id) && registry.localClientCount(stream.id) === 0) markStopped(stream, 'last_client_disconnected');
  }

  /** Issue 14: a new client past the client limits first ends the least recently active idle HLS clients. */
  function makeRoom(streamId: string, hlsClientId: string | null): void {
    for (const victim of registry.evictionsFor(streamId, hlsClientId)) endClient(victim, 'evicted');
  }

  const removedListeners: ((id: string) => void)[] = [];
  const endedListeners: ((client: ClientRecord) => void)[] = [];
  /** True while a change made on another node is applied here: it is not shared back. */
  let applyingShared = false;

  /** Streams inside removeStream(): their stream_stopped carries the removal's reason. */
  const removing = new Set<string>();

  function removeStream(id: string, reason: StopReason): boolean {
    const stream = registry.getStream(id);
    if (!stream) return false;
    removing.add(id);
    try {
      return removeNow(id, stream, reason);
    } finally {
      removing.delete(id);
    }
  }

  function removeNow(id: string, stream: StreamRecord, reason: StopReason): boolean {
    const clientReason: DisconnectReason = reason === 'inactive_timeout' ? 'timeout' : reason === 'shutdown' ? 'shutdown' : 'deleted';
    // Abort first: the connections' own cleanup then finds their sessions already gone and emits nothing twice.
    connections.abortStream(id, clientReason);
    const removed = registry.deleteStream(id);
    if (!removed) return false;
    // Owners of per-stream resources (a transcode's process) release them now: the stream is gone from every count.
    for (const listener of removedListeners) listener(id);
    // A shutdown ends streams only for this process: the saved state keeps them for the next one.
    if (reason !== 'shutdown') state.changed();
    if (reason !== 'shutdown' && !applyingShared) deps.directory?.removed(id);
    for (const c of removed.clients) {
      if (c.relay === true) continue;
      emit('client_disconnected', stream, {
        ...clientData(c),
        reason: clientReason,
        bytes_served: c.bytesServed,
        segments_served: c.segmentsServed,
        duration_seconds: Math.max(0, (registry.now() - c.createdAt) / 1000),
      });
    }
    markStopped(stream, reason);
    logger.info('stream removed', { stream: id, reason });
    return true;
  }

  /** Makes `newIndex` current, counts the switch and emits failover_triggered. */
  /**
   * The stream moves from `fromIndex` to `newIndex`; false (nothing counted, no event) when it is no longer at
   * `fromIndex`: players that opened together each find the same working URL, and only the first is the switch
   * (SPEC §8: one failover_triggered per switch).
   */
  function switchTo(stream: StreamRecord, fromIndex: number, newIndex: number, reason: string, clientId: string | null): boolean {
    if (stream.currentIndex !== fromIndex) return false;
    const ring = urlRing(stream);
    stream.failoverCount += 1;
    stream.failoverAttempts += 1;
    stream.lastFailoverAt = registry.now();
    if (fromIndex !== newIndex) {
      stream.currentIndex = newIndex;
      state.changed();
    }
    // SPEC §16: the channel's next owner starts where this one is now.
    deps.directory?.moved(stream.id, stream.currentIndex);
    emit('failover_triggered', stream, {
      old_url: ring[fromIndex] ?? null,
      new_url: ring[newIndex] ?? null,
      failover_index: newIndex,
      reason,
      client_id: clientId,
    });
    return true;
  }

  return {
    /** The failover resolver client, for the ring opener (undefined: resolver URLs are stored but never asked). */
    resolver: deps.resolver,

    userAgentOf(stream: StreamRecord): string {
      return stream.userAgent ?? deps.defaultUserAgent;
    },

    /** Idempotent: the same URL updates the stored fields; synchronous, so concurrent creates make one stream. */
    /** `id`: transcodes name their own (a hash of URL and arguments, SPEC §13); otherwise the URL's MD5. */
    create(input: StreamInput, id = streamIdFor(input.url)): { stream: StreamRecord; created: boolean } {
      const shared = { ...input, shareUpstream: input.shareUpstream ?? deps.shareLiveUpstream ?? true };
      const result = registry.upsertStream(id, shared);
      state.changed();
      // SPEC §16: a transcode names its own id and keeps its spec on this node (SPEC §13): not shared (yet).
      if (id === streamIdFor(input.url)) deps.directory?.published(id, shared);
      if (result.created) {
        // SPEC §16: in a cluster the owner emits it, when it opens the provider connection for the first viewer.
        if (deps.directory === undefined) markStarted(result.stream);
        logger.info('stream created', { stream: id, kind: input.kind });
      }
      return result;
    },

    /** Start-up (SPEC §12): a saved stream comes back as it was, with no clients and no stream_started. */
    restore(id: string, input: StreamInput, saved: { currentIndex: number; createdAt: number; running: boolean }): StreamRecord {
      return registry.restoreStream(id, { ...input, shareUpstream: input.shareUpstream ?? deps.shareLiveUpstream ?? true }, saved);
    },

    /** Resolves once every change made so far is on disk (SPEC §12: a 2xx means saved); rejects with StateWriteError. */
    saved(): Promise<void> {
      const directory = deps.directory;
      return directory === undefined ? state.saved() : Promise.all([state.saved(), directory.flushed()]).then(() => undefined);
    },

    /** SPEC §16: a definition created or updated on another node; no event (the stream starts with a viewer). */
    applyShared(id: string, input: StreamInput): StreamRecord {
      const { stream } = registry.upsertStream(id, input);
      state.changed();
      return stream;
    },

    /** SPEC §16: a stream deleted on another node ends here too, without being shared back. */
    removeShared(id: string): void {
      applyingShared = true;
      try {
        removeStream(id, 'manual_deletion');
      } finally {
        applyingShared = false;
      }
    },

    get(id: string): StreamRecord {
      const stream = registry.getStream(id);
      if (!stream) throw new NotFoundError(`Stream ${id}`);
      return stream;
    },

    find(id: string): StreamRecord | undefined {
      return registry.getStream(id);
    },

    delete(id: string): void {
      if (!removeStream(id, 'manual_deletion')) throw new NotFoundError(`Stream ${id}`);
    },

    /** Sweeper, shutdown and bulk-delete path: false when the stream is already gone. */
    expireStream(id: string, reason: StopReason = 'inactive_timeout'): boolean {
      return removeStream(id, reason);
    },

    /**
     * Manual failover (SPEC §3.2): the failover resolver's next URL when the stream has one, else the next URL of the
     * ring; connected players move too. 409 when the stream has neither, or the resolver has no next URL.
     */
    async failover(id: string): Promise<{ newUrl: string; index: number; stream: StreamRecord }> {
      const stream = this.get(id);
      const ring = urlRing(stream);
      const from = stream.currentIndex;
      let index: number | undefined;
      if (stream.resolverUrl !== null && deps.resolver) {
        const answer = await deps.resolver.next(stream, { currentUrl: ring[from] ?? stream.url, currentIndex: from, statusCode: null, reason: 'manual' });
        // Deleted while the resolver thought: nothing to switch.
        if (registry.getStream(id) !== stream) throw new NotFoundError(`Stream ${id}`);
        if (answer.url !== undefined) index = placeResolvedUrl(stream, answer.url);
        else if (stream.failoverUrls.length === 0) {
          if (answer.failed) throw new ResolverError();
          throw new ConflictError(`The failover resolver of stream ${id} has no next URL`);
        }
      }
      if (index === undefined) {
        const ringLength = 1 + stream.failoverUrls.length;
        if (ringLength < 2) throw new ConflictError(`Stream ${id} has no failover URLs`);
        // The static ring only: URLs a resolver handed out are not walked by hand.
        index = (Math.min(stream.currentIndex, ringLength - 1) + 1) % ringLength;
      }
      // From where the stream is now: the resolver's answer may have taken a moment, and another switch come first.
      switchTo(stream, stream.currentIndex, index, 'manual', null);
      stream.currentIndex = index;
      state.changed();
      deps.directory?.moved(id, index);
      const moved = connections.switchStream(id, 'manual');
      logger.info('manual failover', { stream: id, index, moved });
      return { newUrl: urlRing(stream)[index] ?? stream.url, index, stream };
    },

    /** A connection found a working URL other than the stream's current one: it becomes current for new connections. */
    recordFailover(stream: StreamRecord, fromIndex: number, toIndex: number, reason: string, clientId: string | null): boolean {
      const switched = switchTo(stream, fromIndex, toIndex, reason, clientId);
      if (switched) logger.info('failover', { stream: stream.id, from: fromIndex, to: toIndex, reason });
      return switched;
    },

    recordError(stream: StreamRecord): void {
      stream.errorCount += 1;
    },

    /** Every URL failed for a player before it got a byte. */
    recordFailure(stream: StreamRecord, error: string, clientId: string | null): void {
      stream.errorCount += 1;
      emit('stream_failed', stream, { error, client_id: clientId });
    },

    /** HLS: a client's first request emits client_connected; later ones only refresh last_access. */
    touchHlsClient(stream: StreamRecord, clientId: string, info: ClientInfo): ClientRecord {
      makeRoom(stream.id, clientId);
      const { client, created } = registry.touchHlsClient(stream, clientId, info);
      if (created) {
        markStarted(stream);
        emit('client_connected', stream, clientData(client));
        logger.info('client connected', { stream: stream.id, client: clientId, kind: 'hls' });
      }
      return client;
    },

    openSession(stream: StreamRecord, clientId: string, info: ClientInfo, role: SessionRole = 'viewer'): ClientRecord {
      makeRoom(stream.id, null);
      const client = registry.openSession(stream, clientId, info);
      if (role !== 'relayed') markStarted(stream);
      if (role === 'relay') {
        client.relay = true;
        logger.info('relay session opened', { stream: stream.id, client: clientId });
        return client;
      }
      emit('client_connected', stream, clientData(client));
      logger.info('client connected', { stream: stream.id, client: clientId, kind: 'continuous' });
      return client;
    },

    endClient,

    /** Called with the id of every stream removed (deleted, swept, shut down), right after it left the registry. */
    onRemoved(listener: (id: string) => void): void {
      removedListeners.push(listener);
    },

    /** Called with every client session ended one by one (not those of a removed stream: see onRemoved). */
    onClientEnded(listener: (client: ClientRecord) => void): void {
      endedListeners.push(listener);
    },

    /** DELETE /hls/{id}/clients/{cid}: ends that client's sessions and open connections. */
    kickClient(streamId: string, clientId: string): void {
      const sessions = registry.findClient(streamId, clientId);
      if (sessions.length === 0) throw new NotFoundError(`Client ${clientId}`);
      connections.abortClient(streamId, clientId, 'kicked');
      for (const c of sessions) endClient(c, 'kicked');
    },
  };
}
