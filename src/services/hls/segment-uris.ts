// Segment URIs that survive a failover (issue 15 item 2). hls.js matches media sequence numbers to segment URIs across
// playlist reloads and stops with a fatal "media sequence mismatch" when a number it knows comes back with another URI.
// After a failover the backup's playlist names the same segments with other upstream URLs, so each viewer is handed,
// for a number it was already given, the URI it already has. That URI's token names the old upstream URL, and the
// segment route serves it from the stream's current URL by the same number (segment-failover.ts).
import type { SequenceUris } from '../../core/m3u8/rewrite-context.ts';
import type { VariantPlace } from './hls-variants.ts';
import { ViewerLru } from './viewer-lru.ts';

/** Viewer-variant pairs kept, least recently used first out: with SEQUENCE_WINDOW, at most ~25 MB. */
export const DEFAULT_SEQUENCE_CONTEXTS = 1024;
/** Numbers kept per viewer and variant: a live window is a few dozen segments; older numbers are never asked again. */
export const SEQUENCE_WINDOW = 128;

interface Kept {
  uri: string;
  /** The ring position of the playlist it was handed out from. */
  ring: number;
  /** Handed out again from another ring position: it is this number's URI for good. */
  pinned: boolean;
}

/** One viewer's URIs of one variant, by media sequence number, the newest SEQUENCE_WINDOW of them. */
class VariantSequence {
  readonly kept = new Map<number, Kept>();

  view(ring: number): SequenceUris {
    return {
      get: (msn) => {
        const k = this.kept.get(msn);
        if (k === undefined) return undefined;
        // Same upstream as when it was handed out: a fresh rewrite (the rewrite memo) gives the same URI anyway, and an
        // encoder that restarted its numbering on that upstream must not get the old segments' URIs.
        if (k.ring === ring && !k.pinned) return undefined;
        k.pinned = true;
        return k.uri;
      },
      set: (msn, uri) => {
        this.kept.delete(msn); // re-inserted last, as the newest
        this.kept.set(msn, { uri, ring, pinned: false });
        // Map order is insertion order, so the oldest numbers go first; a restarted, lower numbering keeps its own.
        if (this.kept.size > SEQUENCE_WINDOW) {
          for (const old of this.kept.keys()) {
            if (this.kept.size <= SEQUENCE_WINDOW) break;
            this.kept.delete(old);
          }
        }
      },
    };
  }
}

export interface SegmentUriBook {
  /** What the rewriter of one playlist answer uses; undefined when the stream has one URL (no failover to survive). */
  /** `dir`: the request's directory, since the URIs handed out are relative to it. */
  forAnswer(streamId: string, clientId: string, dir: string, place: VariantPlace | undefined, ringLength: number): SequenceUris | undefined;
  /** Contexts held now, for tests. */
  size(): number;
  /** Drops one client's URIs: its session ended. */
  forget(streamId: string, clientId: string): void;
  /** Drops the URIs of a removed stream's viewers. */
  forgetStream(streamId: string): void;
}

export function createSegmentUriBook(maxContexts = DEFAULT_SEQUENCE_CONTEXTS): SegmentUriBook {
  const contexts = new ViewerLru<VariantSequence>();
  return {
    forAnswer(streamId, clientId, dir, place, ringLength) {
      if (place === undefined || ringLength < 2) return undefined;
      // Lengths first, so that no two different keys run together.
      const key = `${streamId.length}:${clientId.length}:${place.ordinal}:${streamId}${clientId}${dir}`;
      let seq = contexts.use(key);
      if (seq === undefined) {
        if (contexts.size >= maxContexts) contexts.dropOldest();
        contexts.add(streamId, clientId, key, (seq = new VariantSequence()));
      }
      return seq.view(place.ring);
    },
    size: () => contexts.size,
    forget: (streamId, clientId) => contexts.forget(streamId, clientId),
    forgetStream: (streamId) => contexts.forgetStream(streamId),
  };
}
