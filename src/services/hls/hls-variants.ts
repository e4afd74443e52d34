// Which variant of which master a playlist URL is, so that a failing variant can fail over (SPEC §5.2, §5.3): a player
// fetches the master once and then reloads only the variant, so the master's failover alone would never reach it.
// Entries live as long as their stream record (a WeakMap), and a master has few playlist URIs.
import type { StreamRecord } from '../../core/registry.ts';

/** Where a playlist URI came from: position `ring` of the stream's URL ring, the `ordinal`-th playlist URI there. */
export interface VariantPlace {
  ring: number;
  ordinal: number;
}

interface Book {
  places: Map<string, VariantPlace>;
  /** EXT-X-DEFINE variables of the master at each ring position, for its media playlists' IMPORT (rfc8216bis §4.4.2.3). */
  defines: Map<number, ReadonlyMap<string, string>>;
  /** A variant that failed → the one that replaced it; followed on the player's next reload. */
  replaced: Map<string, string>;
}

/** A master may be rewritten with new variant URLs over time (signed URLs): keep the book from growing without end. */
const MAX_PLACES = 4096;

export type VariantBook = ReturnType<typeof createVariantBook>;

export function createVariantBook() {
  const books = new WeakMap<StreamRecord, Book>();

  function bookOf(stream: StreamRecord): Book {
    let book = books.get(stream);
    if (!book) {
      book = { places: new Map(), defines: new Map(), replaced: new Map() };
      books.set(stream, book);
    }
    return book;
  }

  return {
    /** Records the playlist URIs (and variables, when known) of the master at ring position `ring`, as a rewrite just saw them. */
    recordMaster(stream: StreamRecord, ring: number, uris: readonly string[], defines?: ReadonlyMap<string, string>): void {
      const book = bookOf(stream);
      if (book.places.size + uris.length > MAX_PLACES) book.places.clear();
      uris.forEach((url, ordinal) => book.places.set(url, { ring, ordinal }));
      if (defines !== undefined) book.defines.set(ring, defines);
    },

    /** The variables a media playlist at `url` may IMPORT: its master's, else those of the stream's current master. */
    importsFor(stream: StreamRecord, url: string): ReadonlyMap<string, string> | undefined {
      const book = books.get(stream);
      if (book === undefined) return undefined;
      const ring = book.places.get(book.replaced.get(url) ?? url)?.ring ?? stream.currentIndex;
      return book.defines.get(ring);
    },

    placeOf(stream: StreamRecord, url: string): VariantPlace | undefined {
      return books.get(stream)?.places.get(url);
    },

    /** The URL to fetch for a sealed variant URL: its replacement after a failover, else itself. */
    current(stream: StreamRecord, url: string): string {
      return books.get(stream)?.replaced.get(url) ?? url;
    },

    replace(stream: StreamRecord, original: string, replacement: string): void {
      const book = bookOf(stream);
      if (book.replaced.size >= MAX_PLACES) book.replaced.clear();
      book.replaced.set(original, replacement);
    },
  };
}
