// The state keeper (SPEC §12): puts the saved streams and webhooks back at start-up, and writes a snapshot of them
// through the store after every change, in group commits. The only code that turns live state into a StateSnapshot.
import type { Registry, StreamInput, StreamRecord } from '../../core/registry.ts';
import {
  emptySnapshot,
  streamDefinition,
  unknownFields,
  webhookDefinition,
  type StateSnapshot,
  type StoredStream,
} from '../../core/state/state-file.ts';
import { AppError, StateError, StateWriteError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { WebhookTarget } from '../events/webhook-queue.ts';
import { streamIdFor } from '../streams.ts';
import { GroupCommit } from './group-commit.ts';
import type { StateStore } from './store.ts';
import type { StateSync } from './sync.ts';

export interface StateKeeperDeps {
  store: StateStore;
  registry: Pick<Registry, 'streams' | 'getStream'>;
  /** Late-bound: the webhook service is built after the keeper it reports to. */
  webhookTargets(): readonly WebhookTarget[];
  /** Base64 URL_SECRET key the file keeps (chooseUrlSecret), or undefined. */
  urlSecret: string | undefined;
  logger: Logger;
}

/** Where restored entries go, and the API validators that read them (the same rules as a POST). */
export interface RestoreTargets {
  parseStream(body: unknown): StreamInput;
  restoreStream(id: string, input: StreamInput, saved: { currentIndex: number; createdAt: number; running: boolean }): StreamRecord;
  parseWebhook(body: unknown): WebhookTarget;
  addWebhook(target: WebhookTarget): void;
}

export interface StateKeeper extends StateSync {
  readonly where: string;
  /** Applies a loaded snapshot; StateError STATE_CORRUPT when an entry does not pass the API's validation. */
  restore(loaded: StateSnapshot, targets: RestoreTargets): { streams: number; webhooks: number };
  /** Start-up write: proves now, not at the first change, that the state can be written. StateError otherwise. */
  saveNow(): Promise<void>;
  /** Durable writes done and failed so far. */
  stats(): { writes: number; failures: number };
}

/**
 * The fields of `stored` that this version does not write, or undefined when there are none. Only these are carried
 * over: a known field always comes from the live state (an option cleared later must not come back from the file).
 */
function fieldsNotIn(stored: Record<string, unknown>, written: Record<string, unknown>): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(stored)) if (!(k in written)) (out ??= {})[k] = v;
  return out;
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function createStateKeeper(deps: StateKeeperDeps): StateKeeper {
  const { store, registry, logger } = deps;
  // Fields this version does not know, as read, per stream id / webhook URL (only entries that have some): written
  // back, never dropped.
  let topExtra: Record<string, unknown> = {};
  const streamExtras = new Map<string, Pick<StoredStream, 'definition' | 'extra'>>();
  const webhookExtras = new Map<string, Record<string, unknown>>();
  let restoring = false;
  /** During the start-up write a failure is reported once, as the StateError main prints, not also as a log line. */
  let starting = false;

  function snapshot(): StateSnapshot {
    const out = emptySnapshot();
    out.urlSecret = deps.urlSecret;
    out.extra = topExtra;
    for (const s of registry.streams()) {
      // Transcodes (ids hashing their arguments, SPEC §13) live in memory only: their process definition is not saved.
      if (s.id !== streamIdFor(s.url)) continue;
      const raw = streamExtras.get(s.id);
      out.streams.push({
        id: s.id,
        definition: raw === undefined ? streamDefinition(s) : { ...raw.definition, ...streamDefinition(s) },
        currentIndex: s.currentIndex,
        createdAt: s.createdAt,
        running: s.running,
        extra: raw?.extra ?? {},
      });
    }
    for (const w of deps.webhookTargets()) {
      const raw = webhookExtras.get(w.url);
      out.webhooks.push({ definition: raw === undefined ? webhookDefinition(w) : { ...raw, ...webhookDefinition(w) } });
    }
    // Unknown fields of an entry that is gone go with it.
    for (const id of streamExtras.keys()) if (registry.getStream(id) === undefined) streamExtras.delete(id);
    for (const url of webhookExtras.keys()) if (!out.webhooks.some((w) => w.definition['url'] === url)) webhookExtras.delete(url);
    return out;
  }

  const commits = new GroupCommit(
    () => store.save(snapshot()),
    (err) => {
      if (!starting) logger.error('state not saved', { state: store.where, error: reason(err) });
    },
  );

  return {
    where: store.where,

    changed() {
      if (!restoring) void commits.request();
    },

    saved() {
      return commits.settled().catch((err: unknown) => {
        throw new StateWriteError({ cause: err });
      });
    },

    restore(loaded, targets) {
      const corrupt = (at: string, err: unknown): StateError => {
        // The validators speak of a request body; say which entry of which file it was.
        const why = err instanceof AppError ? err.message : reason(err);
        return new StateError('STATE_CORRUPT', `the state file ${store.where} has an invalid ${at} (${why}); it was left untouched`, { cause: err });
      };
      // Everything is checked before anything is applied: a bad entry stops start-up with its one line, and no half
      // of the state has been put back (or logged) by then.
      const streams = loaded.streams.map((s, i) => {
        let input: StreamInput;
        try {
          input = targets.parseStream(s.definition);
        } catch (err) {
          throw corrupt(`streams[${i}].definition`, err);
        }
        if (streamIdFor(input.url) !== s.id) throw corrupt(`streams[${i}].id`, new Error('it is not the MD5 of the url'));
        return { stored: s, input };
      });
      const webhooks = loaded.webhooks.map((w, i) => {
        try {
          return { stored: w, target: targets.parseWebhook(w.definition) };
        } catch (err) {
          throw corrupt(`webhooks[${i}]`, err);
        }
      });
      const written: Record<string, unknown>[] = [];
      restoring = true;
      try {
        topExtra = loaded.extra;
        for (const { stored, input } of streams) {
          const definition = streamDefinition(targets.restoreStream(stored.id, input, { currentIndex: stored.currentIndex, createdAt: stored.createdAt, running: stored.running }));
          written.push(definition);
          const unknown = fieldsNotIn(stored.definition, definition);
          if (unknown !== undefined || Object.keys(stored.extra).length > 0) streamExtras.set(stored.id, { definition: unknown ?? {}, extra: stored.extra });
        }
        for (const { stored, target } of webhooks) {
          targets.addWebhook(target);
          const unknown = fieldsNotIn(stored.definition, webhookDefinition(target));
          if (unknown !== undefined) webhookExtras.set(target.url, unknown);
        }
      } finally {
        restoring = false;
      }
      const unknown = unknownFields(loaded, written);
      if (unknown.length > 0) {
        logger.warn('state file has fields this version does not know; they are kept as they are', { state: store.where, fields: unknown.slice(0, 20).join(',') });
      }
      return { streams: loaded.streams.length, webhooks: loaded.webhooks.length };
    },

    async saveNow() {
      starting = true;
      try {
        await commits.request();
      } catch (err) {
        throw new StateError(
          'STATE_UNWRITABLE',
          `cannot write the state file ${store.where} (${reason(err)}); its directory must be writable by this user (or set STATE_FILE= to run without state)`,
          { cause: err },
        );
      } finally {
        starting = false;
      }
    },

    stats() {
      return { writes: commits.writes, failures: commits.failures };
    },
  };
}
