// Stream and client lifecycle: the only writer of the registry, and the one place that turns its changes into events.
import type { EventBus, EventType } from '../core/events.ts';
import { type ClientInfo, type ClientRecord, type Registry, type StreamInput, type StreamRecord, urlRing } from '../core/registry.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ConnectionTracker } from './upstream/connections.ts';
import { createHash } from 'node:crypto';

export type DisconnectReason = 'closed' | 'deleted' | 'kicked' | 'timeout' | 'error' | 'shutdown';

export interface StreamServiceDeps {
  registry: Registry;
  bus: EventBus;
  connections: ConnectionTracker;
  logger: Logger;
  defaultUserAgent: string;
  /** SHARE_LIVE_UPSTREAM: a stream's share_upstream when its create names none (default true). */
  shareLiveUpstream?: boolean;
}

export type StreamService = ReturnType<typeof createStreamService>;

/** SPEC §3.1: the id is the lowercase hex MD5 of the URL exactly as given. */
export function streamIdFor(url: string): string {
  return createHash('md5').update(url).digest('hex');
}

export function createStreamService(deps: StreamServiceDeps) {
  const { registry, bus, connections, logger } = deps;

  function emit(type: EventType, stream: StreamRecord, data: Record<string, unknown> = {}): void {
    bus.emit(type, stream.id, { ...data, metadata: { ...stream.metadata } });
  }

  function clientData(c: ClientRecord): Record<string, unknown> {
    return { client_id: c.clientId, ip_address: c.ip, user_agent: c.userAgent, username: c.username };
  }

  /** Removes one client session and emits client_disconnected, once: a second call for the same session is a no-op. */
  function endClient(client: ClientRecord, reason: DisconnectReason): void {
    const removed = registry.removeClient(client.key);
    if (!removed) return;
    const stream = registry.getStream(client.streamId);
    const data = {
      ...clientData(removed),
      reason,
      bytes_served: removed.bytesServed,
      segments_served: removed.segmentsServed,
      duration_seconds: Math.max(0, (registry.now() - removed.createdAt) / 1000),
    };
    if (stream) emit('client_disconnected', stream, data);
    logger.info('client disconnected', {
      stream: removed.streamId,
      client: removed.clientId,
      reason,
      bytes: removed.bytesServed,
    });
  }

  function removeStream(id: string, reason: 'deleted' | 'timeout' | 'shutdown'): boolean {
    const stream = registry.getStream(id);
    if (!stream) return false;
    // Abort first: the connections' own cleanup then finds their sessions already gone and emits nothing twice.
    connections.abortStream(id, reason);
    const removed = registry.deleteStream(id);
    if (!removed) return false;
    for (const c of removed.clients) {
      emit('client_disconnected', stream, {
        ...clientData(c),
        reason: reason === 'deleted' ? 'deleted' : reason,
        bytes_served: c.bytesServed,
        segments_served: c.segmentsServed,
        duration_seconds: Math.max(0, (registry.now() - c.createdAt) / 1000),
      });
    }
    emit('stream_stopped', stream, { reason, total_bytes_served: stream.bytesServed });
    logger.info('stream stopped', { stream: id, reason });
    return true;
  }

  return {
    userAgentOf(stream: StreamRecord): string {
      return stream.userAgent ?? deps.defaultUserAgent;
    },

    /** Idempotent: the same URL updates the stored fields; synchronous, so concurrent creates make one stream. */
    create(input: StreamInput): { stream: StreamRecord; created: boolean } {
      const id = streamIdFor(input.url);
      const result = registry.upsertStream(id, { ...input, shareUpstream: input.shareUpstream ?? deps.shareLiveUpstream ?? true });
      if (result.created) {
        emit('stream_started', result.stream, {
          primary_url: input.url,
          failover_urls: input.failoverUrls,
          user_agent: this.userAgentOf(result.stream),
          stream_type: input.kind,
        });
        logger.info('stream created', { stream: id, kind: input.kind });
      }
      return result;
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
      if (!removeStream(id, 'deleted')) throw new NotFoundError(`Stream ${id}`);
    },

    /** Sweeper, shutdown and bulk-delete path: false when the stream is already gone. */
    expireStream(id: string, reason: 'deleted' | 'timeout' | 'shutdown' = 'timeout'): boolean {
      return removeStream(id, reason);
    },

    /** Manual failover (SPEC §3.2): next URL in the ring, connected players move too. */
    failover(id: string): { newUrl: string; index: number } {
      const stream = this.get(id);
      const ring = urlRing(stream);
      if (ring.length < 2) throw new ConflictError(`Stream ${id} has no failover URLs`);
      const oldUrl = ring[stream.currentIndex] ?? stream.url;
      const index = (stream.currentIndex + 1) % ring.length;
      const newUrl = ring[index] ?? stream.url;
      stream.currentIndex = index;
      stream.failoverCount += 1;
      emit('failover_triggered', stream, { old_url: oldUrl, new_url: newUrl, failover_index: index, reason: 'manual', client_id: null });
      const moved = connections.switchStream(id, 'manual');
      logger.info('manual failover', { stream: id, index, moved });
      return { newUrl, index };
    },

    /** A connection found a working URL other than the stream's current one: it becomes current for new connections. */
    recordFailover(stream: StreamRecord, fromIndex: number, toIndex: number, reason: string, clientId: string | null): void {
      const ring = urlRing(stream);
      stream.failoverCount += 1;
      if (stream.currentIndex === fromIndex) stream.currentIndex = toIndex;
      emit('failover_triggered', stream, {
        old_url: ring[fromIndex] ?? null,
        new_url: ring[toIndex] ?? null,
        failover_index: toIndex,
        reason,
        client_id: clientId,
      });
      logger.info('failover', { stream: stream.id, from: fromIndex, to: toIndex, reason });
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
      const { client, created } = registry.touchHlsClient(stream, clientId, info);
      if (created) {
        emit('client_connected', stream, clientData(client));
        logger.info('client connected', { stream: stream.id, client: clientId, kind: 'hls' });
      }
      return client;
    },

    openSession(stream: StreamRecord, clientId: string, info: ClientInfo): ClientRecord {
      const client = registry.openSession(stream, clientId, info);
      emit('client_connected', stream, clientData(client));
      logger.info('client connected', { stream: stream.id, client: clientId, kind: 'continuous' });
      return client;
    },

    endClient,

    /** DELETE /hls/{id}/clients/{cid}: ends that client's sessions and open connections. */
    kickClient(streamId: string, clientId: string): void {
      const sessions = registry.findClient(streamId, clientId);
      if (sessions.length === 0) throw new NotFoundError(`Client ${clientId}`);
      connections.abortClient(streamId, clientId, 'kicked');
      for (const c of sessions) endClient(c, 'kicked');
    },
  };
}
