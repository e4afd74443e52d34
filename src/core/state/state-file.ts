// The state file format (SPEC §12): durable state as JSON text and back, strictly read. Pure: no I/O.
// Streams and webhooks are stored as the bodies of the API calls that made them (POST /streams, POST /webhooks), so
// the API's own validators read them back, and an operator can read the file or replay an entry with curl.
import { StateError } from '../../errors.ts';
import type { StreamInput, StreamRecord } from '../registry.ts';

/** Bumped when a change to the format would be misread by an older version; an older one then refuses the file. */
export const STATE_VERSION = 1;

/** Derived from the URL when the definition is read back, so not stored. */
type DerivedField = 'kind';
type StoredField = Exclude<keyof StreamInput, DerivedField>;
type MustBeNever<T extends never> = T;
/** Compile-time guard: the stream record carries every stored field under its StreamInput name. */
export type RecordHasEveryField = MustBeNever<Exclude<StoredField, keyof StreamRecord>>;
type StoredRecord = Pick<StreamRecord, StoredField & keyof StreamRecord>;

/** A field's POST /streams name, or a function giving the body fields it stands for (e.g. a group flattened back). */
type FieldWriter<K extends keyof StoredRecord> = string | ((value: StoredRecord[K]) => Record<string, unknown>);

/**
 * How each StreamInput field is written as the POST /streams body that recreates it. Every field of StreamInput but
 * the derived ones must be here (a type error until it is): a new field costs one line, and is never silently lost.
 */
export const STREAM_FIELDS: { readonly [K in StoredField & keyof StoredRecord]-?: FieldWriter<K> } = {
  url: 'url',
  failoverUrls: 'failover_urls',
  userAgent: 'user_agent',
  headers: 'headers',
  metadata: 'metadata',
  resolverUrl: 'failover_resolver_url',
  strictLiveTs: 'strict_live_ts',
  useStickySession: 'use_sticky_session',
  shareUpstream: 'share_upstream',
  // Kept under their API names (enable_silence_detection, silence_*), so they flatten back into the body.
  silence: (s) => ({ ...s }),
};

/** The webhook fields, as POST /webhooks names them. */
const WEBHOOK_FIELDS = ['url', 'events', 'headers', 'timeout', 'retry_attempts'] as const;
const ENTRY_FIELDS = ['id', 'definition', 'current_index', 'created_at', 'running'];
const TOP_FIELDS = ['version', 'written_at', 'url_secret', 'streams', 'webhooks'];

export interface StoredStream {
  id: string;
  /** The POST /streams body; fields this version does not know are kept as read. */
  definition: Record<string, unknown>;
  /** Position in [url, ...failover_urls] that new connections start from. */
  currentIndex: number;
  /** Epoch ms. */
  createdAt: number;
  /**
   * Whether stream_started was sent without a stream_stopped after it. Kept so that started and stopped still
   * alternate for a webhook consumer across a restart, even one after kill -9 (SPEC §6, §12).
   */
  running: boolean;
  /** Entry fields this version does not know (a newer or hand-edited file), written back as read. */
  extra: Record<string, unknown>;
}

export interface StoredWebhook {
  /** The POST /webhooks body; fields this version does not know are kept as read. */
  definition: Record<string, unknown>;
}

export interface StateSnapshot {
  /** Base64 of the generated URL_SECRET key, when one was generated. */
  urlSecret: string | undefined;
  streams: StoredStream[];
  webhooks: StoredWebhook[];
  /** Top-level fields this version does not know, written back as read. */
  extra: Record<string, unknown>;
}

/** What a webhook is, structurally (services/events owns the real type). */
export interface WebhookDefinitionSource {
  url: string;
  events: readonly string[];
  headers: Readonly<Record<string, string>>;
  timeoutMs: number;
  retryAttempts: number;
}

export function emptySnapshot(): StateSnapshot {
  return { urlSecret: undefined, streams: [], webhooks: [], extra: {} };
}

/** The stream as the POST /streams body that would create it again. */
export function streamDefinition(stream: StoredRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of Object.keys(STREAM_FIELDS) as (keyof typeof STREAM_FIELDS)[]) {
    // Each writer was type-checked against its own field in STREAM_FIELDS; the loop only pairs them up again.
    const writer = STREAM_FIELDS[field] as string | ((value: unknown) => Record<string, unknown>);
    if (typeof writer === 'string') out[writer] = stream[field];
    else Object.assign(out, writer(stream[field]));
  }
  return out;
}

/** The webhook as the POST /webhooks body that would add it again. */
export function webhookDefinition(target: WebhookDefinitionSource): Record<string, unknown> {
  return { url: target.url, events: [...target.events], headers: target.headers, timeout: target.timeoutMs / 1000, retry_attempts: target.retryAttempts };
}

/** One stream per line: small diffs, readable with grep, and no cost of pretty-printing every nested object. */
export function encodeState(snapshot: StateSnapshot, now: number): string {
  const head: Record<string, unknown> = { ...snapshot.extra, version: STATE_VERSION, written_at: new Date(now).toISOString() };
  if (snapshot.urlSecret !== undefined) head['url_secret'] = snapshot.urlSecret;
  const entries = snapshot.streams.map((s) => ({
    id: s.id,
    definition: s.definition,
    current_index: s.currentIndex,
    created_at: new Date(s.createdAt).toISOString(),
    running: s.running,
    ...s.extra,
  }));
  // One stringify for all streams (10,000 small ones cost several times more), then a line break before each entry.
  // Every entry starts with "id" (extra never holds a known field), and inside a JSON string a quote is always escaped,
  // so `},{"id":` can only be the seam between two entries.
  const streams = entries.length === 0 ? '[]' : `[\n${JSON.stringify(entries).slice(1, -1).replaceAll('},{"id":', '},\n{"id":')}\n]`;
  const webhooks = snapshot.webhooks.length === 0 ? '[]' : `[\n${snapshot.webhooks.map((w) => JSON.stringify(w.definition)).join(',\n')}\n]`;
  const headText = JSON.stringify(head);
  return `${headText.slice(0, -1)},\n"streams": ${streams},\n"webhooks": ${webhooks}\n}\n`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function corrupt(why: string): StateError {
  return new StateError('STATE_CORRUPT', why);
}

function pickExtra(obj: Record<string, unknown>, known: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (!known.includes(k)) out[k] = v;
  return out;
}

function decodeStream(v: unknown, i: number): StoredStream {
  const at = `streams[${i}]`;
  if (!isObject(v)) throw corrupt(`${at} is not an object`);
  const { id, definition, current_index: index, created_at: created, running } = v;
  if (typeof id !== 'string' || !/^[0-9a-f]{32}$/.test(id)) throw corrupt(`${at}.id is not a stream id`);
  if (!isObject(definition)) throw corrupt(`${at}.definition is not an object`);
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) throw corrupt(`${at}.current_index is not a non-negative integer`);
  const createdAt = typeof created === 'string' ? Date.parse(created) : Number.NaN;
  if (Number.isNaN(createdAt)) throw corrupt(`${at}.created_at is not an ISO-8601 time`);
  if (running !== undefined && typeof running !== 'boolean') throw corrupt(`${at}.running is not a boolean`);
  return { id, definition, currentIndex: index, createdAt, running: running === true, extra: pickExtra(v, ENTRY_FIELDS) };
}

/**
 * Reads a state file's text. Throws StateError STATE_CORRUPT for anything malformed (truncated, not JSON, wrong
 * types) and STATE_NEWER for a format this version does not know; never returns a partial state.
 * The definitions themselves are checked by the API validators when they are applied.
 */
export function decodeState(text: string): StateSnapshot {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw corrupt(text.length === 0 ? 'is empty' : `is not valid JSON (${err.message})`);
  }
  if (!isObject(doc)) throw corrupt('is not a JSON object');
  const version = doc['version'];
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) throw corrupt('has no valid "version"');
  if (version > STATE_VERSION) {
    throw new StateError('STATE_NEWER', `was written by a newer m3u-proxy (format ${version}; this version reads format ${STATE_VERSION} and older)`);
  }
  const secret = doc['url_secret'];
  if (secret !== undefined && (typeof secret !== 'string' || Buffer.from(secret, 'base64').length < 32)) {
    throw corrupt('has a url_secret that is not 32 bytes of base64');
  }
  const streams = doc['streams'] ?? [];
  const webhooks = doc['webhooks'] ?? [];
  if (!Array.isArray(streams)) throw corrupt('"streams" is not an array');
  if (!Array.isArray(webhooks)) throw corrupt('"webhooks" is not an array');
  const seen = new Set<string>();
  const decoded = streams.map((s, i) => {
    const stream = decodeStream(s, i);
    if (seen.has(stream.id)) throw corrupt(`streams[${i}] repeats stream ${stream.id}`);
    seen.add(stream.id);
    return stream;
  });
  return {
    urlSecret: secret,
    streams: decoded,
    webhooks: webhooks.map((w, i) => {
      if (!isObject(w)) throw corrupt(`webhooks[${i}] is not an object`);
      return { definition: w };
    }),
    extra: pickExtra(doc, TOP_FIELDS),
  };
}

/**
 * Paths of the fields this version does not know; they are kept, and start-up names them once. `written[i]` is
 * what this version writes for stream i (streamDefinition): a stored definition field it would not write is unknown.
 */
export function unknownFields(snapshot: StateSnapshot, written: readonly Record<string, unknown>[]): string[] {
  const out = Object.keys(snapshot.extra);
  snapshot.streams.forEach((s, i) => {
    for (const k of Object.keys(s.extra)) out.push(`streams[${i}].${k}`);
    for (const k of Object.keys(s.definition)) if (!(k in (written[i] ?? {}))) out.push(`streams[${i}].definition.${k}`);
  });
  snapshot.webhooks.forEach((w, i) => {
    for (const k of Object.keys(w.definition)) if (!(WEBHOOK_FIELDS as readonly string[]).includes(k)) out.push(`webhooks[${i}].${k}`);
  });
  return out;
}

/**
 * Which URL_SECRET key signs playback URLs: the configured one; else the one kept in the state file; else the
 * random one of this start, which is then kept. `keep` is what the file stores: a kept key is never dropped, even
 * while URL_SECRET is set, so unsetting it again brings back the URLs players hold.
 */
export function chooseUrlSecret(
  configured: { key: () => Buffer; random: boolean },
  stored: string | undefined,
): { key: () => Buffer; keep: string | undefined; source: 'configured' | 'state' | 'generated' } {
  if (!configured.random) return { key: configured.key, keep: stored, source: 'configured' };
  if (stored !== undefined) {
    const key = Buffer.from(stored, 'base64');
    return { key: () => key, keep: stored, source: 'state' };
  }
  return { key: configured.key, keep: configured.key().toString('base64'), source: 'generated' };
}
