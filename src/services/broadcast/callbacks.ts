import { request } from 'node:http';
import { request as requestTls } from 'node:https';
import { isoUtc } from './views.ts';

export interface CallbackOptions {
  timeoutMs: number;
  /** Waits before the retries of a refused or reset connection (research: 1, 2, 4 s). */
  backoffMs?: readonly number[];
  /** Extra request headers (a DVR receiver wants the proxy's X-API-Token). */
  headers?: Record<string, string>;
}

export type CallbackResult = { ok: true; status: number } | { ok: false; reason: string };

/** Only a connection that never reached the receiver is tried again: a timeout or an answer may have been acted on. */
const RETRIED = new Set(['ECONNREFUSED', 'ECONNRESET']);

function postOnce(url: URL, body: string, timeoutMs: number, extra: Record<string, string>): Promise<CallbackResult & { code?: string }> {
  return new Promise((resolve) => {
    const send = url.protocol === 'https:' ? requestTls : request;
    const req = send(url, {
      method: 'POST',
      timeout: timeoutMs,
      headers: { ...extra, 'Content-Type': 'application/json', 'User-Agent': 'M3U-Proxy-Broadcast/1.0', 'Content-Length': Buffer.byteLength(body) },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ok: true, status: res.statusCode ?? 0 }));
      res.on('error', () => resolve({ ok: true, status: res.statusCode ?? 0 }));
    });
    req.on('timeout', () => req.destroy(new Error('callback timed out')));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, reason: error.message, code: error.code }));
    req.end(body);
  });
}

/** POST one callback event as JSON; never throws, so a bad receiver only costs this promise. */
export async function sendCallback(target: string, payload: unknown, options: CallbackOptions): Promise<CallbackResult> {
  const url = new URL(target);
  const body = JSON.stringify(payload);
  const waits = options.backoffMs ?? [1000, 2000, 4000];
  for (let attempt = 0; ; attempt++) {
    const result = await postOnce(url, body, options.timeoutMs, options.headers ?? {});
    if (result.ok || result.code === undefined || !RETRIED.has(result.code) || attempt >= waits.length) {
      return result.ok ? result : { ok: false, reason: result.reason };
    }
    await new Promise((r) => setTimeout(r, waits[attempt]));
  }
}

export interface BroadcastEventInput {
  id: string;
  event: string;
  dvr: boolean;
  dir: string;
  metadata: Record<string, unknown> | null;
  data: Record<string, unknown>;
  apiToken: string | undefined;
}

/**
 * The callback body (research §6.3) and its extra headers. DVR events also carry the directory, the recording's ids
 * from the start's metadata (m3u-editor's DVR receiver finds the recording by `data.recording_db_id`) and the API
 * token, which that receiver checks; a Network callback URL is given neither.
 */
export function broadcastEvent(o: BroadcastEventInput): { payload: Record<string, unknown>; headers: Record<string, string> | undefined } {
  const ids: Record<string, unknown> = {};
  if (o.dvr) for (const key of ['recording_db_id', 'recording_id']) if (o.metadata?.[key] !== undefined) ids[key] = o.metadata[key];
  const payload = { network_id: o.id, event: o.event, timestamp: isoUtc(new Date()), dvr_mode: o.dvr, hls_dir: o.dvr ? o.dir : null, data: { ...ids, ...o.data } };
  return { payload, headers: o.dvr && o.apiToken !== undefined ? { 'X-API-Token': o.apiToken } : undefined };
}
