// What the broadcast routes answer about a network, in the reference's field names (research §6.2). Stream URLs
// carry media-server keys (`api_key`, `X-Plex-Token`), so every query value is masked (B9).
import { redactUrl } from '../../core/url.ts';

export type BroadcastStatus = 'running' | 'stopping' | 'stopped' | 'failed';

/** The part of a running or finished broadcast the answers show. */
export interface BroadcastFacts {
  networkId: string;
  status: BroadcastStatus;
  currentSegmentNumber: number;
  startedAt: Date;
  streamUrl: string;
  dir: string;
  pid: number;
  errorMessage: string | null;
  bytesWritten: number;
  metadata: Record<string, unknown> | null;
}

/**
 * `http://jf/Videos/1/stream.ts?static=true&api_key=K` → `http://jf/…/stream.ts?static=***&api_key=***`: user info,
 * fragment and every path segment but the last dropped (Xtream Codes URLs carry the user and password in the path,
 * as core/url.ts redactUrl says), query values masked.
 */
export function maskQuery(value: string): string {
  if (!URL.canParse(value)) return '<invalid url>';
  const names = [...new Set(new URL(value).searchParams.keys())];
  const query = names.map((name) => `${encodeURIComponent(name)}=***`).join('&');
  return `${redactUrl(value)}${query === '' ? '' : `?${query}`}`;
}

/** Python's `datetime.isoformat()` of an aware UTC time, as the editor parses it: `…T12:00:00.123000+00:00`. */
export function isoUtc(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00');
}

export function statusBody(f: BroadcastFacts): Record<string, unknown> {
  return {
    network_id: f.networkId,
    status: f.status,
    current_segment_number: f.currentSegmentNumber,
    started_at: isoUtc(f.startedAt),
    stream_url: maskQuery(f.streamUrl),
    hls_dir: f.dir,
    ffmpeg_pid: f.pid,
    error_message: f.errorMessage,
    bytes_written: f.bytesWritten,
  };
}

export function listItem(f: BroadcastFacts): Record<string, unknown> {
  return {
    network_id: f.networkId,
    status: f.status,
    current_segment_number: f.currentSegmentNumber,
    started_at: isoUtc(f.startedAt),
    stream_url: maskQuery(f.streamUrl),
    ffmpeg_pid: f.pid,
    metadata: f.metadata ?? {},
    bytes_written: f.bytesWritten,
  };
}
