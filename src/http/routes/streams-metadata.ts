// Management by metadata (SPEC §3.2), the calls m3u-editor counts and frees provider connections with: find, count,
// delete (optionally only when no other viewer remains) and delete the oldest. Literal paths: listed before /streams/:id.
import type { Registry, StreamRecord } from '../../core/registry.ts';
import { isoTime, streamTypeOf } from '../../services/stats.ts';
import { urlRing } from '../../core/registry.ts';
import { readJson } from '../body.ts';
import { sendJson } from '../respond.ts';
import type { Route } from '../router.ts';
import { parseCountsQuery, parseMetadataFilter, type MetadataFilter } from '../validate.ts';
import type { RouteDeps } from './deps.ts';

interface SkippedStream {
  stream_id: string;
  reason: 'excluded_by_channel_id' | 'has_active_clients';
  active_clients?: number;
}

/** Streams whose metadata[field] equals value (metadata is stored as strings, so compared as strings). */
function matching(registry: Registry, filter: MetadataFilter, activeOnly: boolean): StreamRecord[] {
  const out: StreamRecord[] = [];
  for (const s of registry.streams()) {
    if (s.metadata[filter.field] !== filter.value) continue;
    if (activeOnly && registry.clientCount(s.id) === 0) continue;
    out.push(s);
  }
  return out;
}

const isExcluded = (filter: MetadataFilter, s: StreamRecord): boolean =>
  filter.excludeChannelId !== undefined && s.metadata['id'] === filter.excludeChannelId;

export function streamMetadataRoutes(deps: RouteDeps): Route[] {
  const { registry, streams } = deps;

  return [
    {
      method: 'GET',
      path: '/streams/by-metadata',
      auth: true,
      handler({ res, query }) {
        const filter = parseMetadataFilter(query, undefined);
        let totalClients = 0;
        const list = matching(registry, filter, filter.activeOnly)
          .filter((s) => !isExcluded(filter, s))
          .map((s) => {
            const clientCount = registry.clientCount(s.id);
            totalClients += clientCount;
            return {
              stream_id: s.id,
              client_count: clientCount,
              metadata: { ...s.metadata },
              last_access: isoTime(s.lastAccess),
              is_active: clientCount > 0,
              url: urlRing(s)[s.currentIndex] ?? s.url,
              stream_type: streamTypeOf(s),
            };
          });
        sendJson(res, 200, {
          filter: { field: filter.field, value: filter.value },
          active_only: filter.activeOnly,
          matching_streams: list,
          total_matching: list.length,
          total_clients: totalClients,
        });
      },
    },
    {
      method: 'GET',
      path: '/streams/counts-by-metadata',
      auth: true,
      handler({ res, query }) {
        const q = parseCountsQuery(query);
        const counts: Record<string, number> = {};
        for (const v of q.values) counts[v] = 0;
        for (const s of registry.streams()) {
          const v = s.metadata[q.field];
          if (v === undefined || !Object.hasOwn(counts, v)) continue;
          if (q.activeOnly && registry.clientCount(s.id) === 0) continue;
          counts[v] = (counts[v] ?? 0) + 1;
        }
        sendJson(res, 200, { field: q.field, counts });
      },
    },
    {
      method: 'DELETE',
      path: '/streams/by-metadata',
      auth: true,
      async handler({ req, res, query }) {
        const filter = parseMetadataFilter(query, await readJson(req));
        const deleted: string[] = [];
        const skipped: SkippedStream[] = [];
        for (const s of matching(registry, filter, false)) {
          if (isExcluded(filter, s)) {
            skipped.push({ stream_id: s.id, reason: 'excluded_by_channel_id' });
            continue;
          }
          if (!filter.force) {
            // The in-app player closing: only that viewer leaves; the stream goes only when nobody else watches it.
            // Every node's viewers count (SPEC §16: clientCount is cluster-wide); on one node, this node's sessions.
            const leaving = filter.clientId === undefined ? 0 : registry.findClient(s.id, filter.clientId).filter((c) => c.relay !== true).length;
            const others = registry.clientCount(s.id) - leaving;
            if (others > 0) {
              if (filter.clientId !== undefined && registry.findClient(s.id, filter.clientId).length > 0) streams.kickClient(s.id, filter.clientId);
              // SPEC §16: the leaving viewer may be on another node.
              else if (filter.clientId !== undefined) deps.kickElsewhere?.(s.id, filter.clientId);
              skipped.push({ stream_id: s.id, reason: 'has_active_clients', active_clients: others });
              continue;
            }
          }
          if (streams.expireStream(s.id, 'metadata_filter_deletion')) deleted.push(s.id);
        }
        await streams.saved();
        sendJson(res, 200, {
          deleted_count: deleted.length,
          deleted_streams: deleted,
          skipped_streams: skipped,
          message: `Deleted ${deleted.length} stream(s) matching ${filter.field}=${filter.value}`,
        });
      },
    },
    {
      method: 'DELETE',
      path: '/streams/oldest-by-metadata',
      auth: true,
      async handler({ req, res, query }) {
        const filter = parseMetadataFilter(query, await readJson(req));
        const oldest = matching(registry, filter, false)
          .filter((s) => !isExcluded(filter, s))
          .reduce<StreamRecord | undefined>((best, s) => (best === undefined || s.createdAt < best.createdAt ? s : best), undefined);
        if (!oldest) {
          sendJson(res, 200, {
            deleted_count: 0,
            deleted_stream: null,
            stream_age_seconds: 0,
            message: `No stream with ${filter.field}=${filter.value}`,
          });
          return;
        }
        const age = Math.max(0, (registry.now() - oldest.createdAt) / 1000);
        streams.expireStream(oldest.id, 'oldest_stream_deletion');
        await streams.saved();
        sendJson(res, 200, {
          deleted_count: 1,
          deleted_stream: oldest.id,
          stream_age_seconds: age,
          message: `Deleted oldest stream ${oldest.id} with ${filter.field}=${filter.value}`,
        });
      },
    },
  ];
}
