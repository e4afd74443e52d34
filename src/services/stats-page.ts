// Pages of the stats lists (issue 14): /stats, /stats/streams, /stats/clients and /clients answer at most `limit` records,
// built without materialising the rest, so a flood of client records cannot make each call huge and slow.
import type { Registry } from '../core/registry.ts';
import { type ClientStat, type SharingView, type StreamStat, toClientStat, toStreamStat } from './stats.ts';

/** A window over a list: skip `offset` records, then return at most `limit`. */
export interface Page {
  limit: number;
  offset: number;
}

/** Records one answer holds when the caller names no limit: far above a normal deployment, far below a flood. */
export const DEFAULT_PAGE_LIMIT = 1000;
/** The largest limit a caller may ask for. */
export const MAX_PAGE_LIMIT = 10_000;

/** What a paged answer says about itself, beside its list and its total (`total_clients`, `total_streams`). */
export interface PageInfo {
  limit: number;
  offset: number;
  /** True when records exist past this page (ask again with a larger offset). */
  truncated: boolean;
}

function window<T, U>(items: Iterable<T>, page: Page, map: (item: T) => U): U[] {
  const out: U[] = [];
  let index = 0;
  for (const item of items) {
    if (out.length >= page.limit) break;
    if (index++ < page.offset) continue;
    out.push(map(item));
  }
  return out;
}

export function pageInfo(page: Page, returned: number, total: number): PageInfo {
  return { limit: page.limit, offset: page.offset, truncated: page.offset + returned < total };
}

export function clientStatsPage(registry: Registry, page: Page, sharing?: SharingView): { clients: ClientStat[]; total: number } {
  return { clients: window(registry.clients(), page, (c) => toClientStat(c, sharing)), total: registry.clientCount() };
}

export function streamStatsPage(
  registry: Registry,
  defaultUserAgent: string,
  page: Page,
  sharing?: SharingView,
): { streams: StreamStat[]; total: number } {
  const streams = window(registry.streams(), page, (s) => toStreamStat(registry, s, defaultUserAgent, sharing));
  return { streams, total: registry.streamCount() };
}
