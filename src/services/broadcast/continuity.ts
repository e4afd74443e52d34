// One live playlist across programmes (research §6.7 B12). Each programme's FFmpeg writes `live.m3u8` from scratch:
// at a transition the playlist would drop the previous programme's segments at once (a player behind the live edge
// jumps) and never count the discontinuities that slid out. What `GET …/live.m3u8` serves is therefore FFmpeg's
// playlist preceded by the tail of what was served before the transition, as far as the window has room, with an
// `#EXT-X-DISCONTINUITY` before each programme's first segment and an `#EXT-X-MEDIA-SEQUENCE` and
// `#EXT-X-DISCONTINUITY-SEQUENCE` that only move forward. Segment numbers continue across programmes and FFmpeg's
// media sequence is the segment number, so a segment's number is its media sequence number.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const SEGMENT_URI = /^live(\d+)\.ts$/;
/** Tags about the whole playlist; every other tag belongs to the next segment. */
const PLAYLIST_TAGS = /^#(EXTM3U|EXT-X-VERSION|EXT-X-TARGETDURATION|EXT-X-MEDIA-SEQUENCE|EXT-X-DISCONTINUITY-SEQUENCE|EXT-X-INDEPENDENT-SEGMENTS|EXT-X-PLAYLIST-TYPE|EXT-X-ALLOW-CACHE|EXT-X-ENDLIST)\b/;
const DISCONTINUITY = '#EXT-X-DISCONTINUITY';

/** One segment: its number and its lines (its tags, then its URI). */
export interface Block {
  n: number;
  lines: string[];
}

export interface ParsedPlaylist {
  /** Playlist-level tags other than the sequences, which are recomputed. */
  header: string[];
  targetDuration: number;
  blocks: Block[];
  endList: boolean;
}

/** What a network's served playlist carries over from earlier programmes. */
export interface Continuity {
  /** The served segments of earlier programmes, oldest first (at most a window of them). */
  tail: Block[];
  /** First segment numbers of programmes that began with a discontinuity and may still be in the window. */
  starts: number[];
  /** Discontinuities that have slid out of the window already. */
  passed: number;
  /** The network's hls_list_size: how many segments the served playlist lists. */
  listSize: number;
}

export function emptyContinuity(listSize: number): Continuity {
  return { tail: [], starts: [], passed: 0, listSize };
}

/** FFmpeg's playlist as blocks, or null when it lists something other than `live<digits>.ts` (then served as is). */
export function parsePlaylist(text: string): ParsedPlaylist | null {
  const header: string[] = [];
  const blocks: Block[] = [];
  let pending: string[] = [];
  let targetDuration = 0;
  let endList = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (PLAYLIST_TAGS.test(line)) {
      if (line.startsWith('#EXT-X-TARGETDURATION:')) targetDuration = Number(line.slice(22)) || 0;
      else if (line === '#EXT-X-ENDLIST') endList = true;
      else if (!line.startsWith('#EXT-X-MEDIA-SEQUENCE') && !line.startsWith('#EXT-X-DISCONTINUITY-SEQUENCE')) header.push(line);
      continue;
    }
    if (line.startsWith('#')) {
      pending.push(line);
      continue;
    }
    const m = SEGMENT_URI.exec(line);
    if (m === null) return null;
    blocks.push({ n: Number(m[1]), lines: [...pending, line] });
    pending = [];
  }
  return { header, targetDuration, blocks, endList };
}

/** The segments to serve: the newest of the tail that fit in the window before the current ones, then those. */
export function visibleBlocks(c: Continuity, current: readonly Block[], listSize: number): Block[] {
  const first = current[0]?.n;
  const older = first === undefined ? c.tail : c.tail.filter((b) => b.n < first);
  const room = Math.max(0, listSize - current.length);
  return [...older.slice(Math.max(0, older.length - room)), ...current];
}

function extinfSeconds(block: Block): number {
  const line = block.lines.find((l) => l.startsWith('#EXTINF:'));
  return line === undefined ? 0 : Number.parseFloat(line.slice(8)) || 0;
}

/**
 * The playlist to serve for FFmpeg's current one. Moves discontinuities that slid out of the window into `passed`
 * (so the sequence only grows). Unchanged text when nothing is carried over.
 */
export function composePlaylist(text: string, c: Continuity): string {
  const parsed = parsePlaylist(text);
  if (parsed === null || (c.tail.length === 0 && c.starts.length === 0 && c.passed === 0)) return text;
  const blocks = visibleBlocks(c, parsed.blocks, c.listSize);
  const first = blocks[0]?.n;
  if (first === undefined) return text;
  const gone = c.starts.filter((s) => s < first).length;
  c.passed += gone;
  c.starts = c.starts.filter((s) => s >= first);
  c.tail = c.tail.filter((b) => b.n >= first);
  const target = Math.max(parsed.targetDuration, ...blocks.map((b) => Math.ceil(extinfSeconds(b))));
  const [head, ...rest] = parsed.header;
  const out = [head ?? '#EXTM3U'];
  out.push(...rest.filter((l) => !l.startsWith('#EXT-X-TARGETDURATION') && !l.startsWith('#EXT-X-INDEPENDENT-SEGMENTS')));
  out.push(`#EXT-X-TARGETDURATION:${target}`, `#EXT-X-MEDIA-SEQUENCE:${first}`, `#EXT-X-DISCONTINUITY-SEQUENCE:${c.passed}`);
  if (parsed.header.includes('#EXT-X-INDEPENDENT-SEGMENTS')) out.push('#EXT-X-INDEPENDENT-SEGMENTS');
  for (const b of blocks) {
    const marked = b.lines.includes(DISCONTINUITY);
    if (c.starts.includes(b.n) && !marked) out.push(DISCONTINUITY);
    out.push(...b.lines);
  }
  if (parsed.endList) out.push('#EXT-X-ENDLIST');
  return `${out.join('\n')}\n`;
}

/**
 * At a transition, before the next programme's FFmpeg writes: what was being served becomes the tail, and the next
 * programme's first segment is recorded as a discontinuity. `previous` is the finished programme's playlist text
 * (null when there is none on disk).
 */
export function beginProgramme(c: Continuity, previous: string | null, startNumber: number, discontinuity: boolean, listSize: number): void {
  const parsed = previous === null ? null : parsePlaylist(previous);
  // The window of the finished programme, as it was served (its first segment keeps its discontinuity tag).
  c.tail = (parsed === null ? c.tail : visibleBlocks(c, parsed.blocks, c.listSize)).filter((b) => b.n < startNumber);
  c.listSize = listSize;
  if (discontinuity && !c.starts.includes(startNumber)) c.starts.push(startNumber);
}

/** Segment names the tail still serves (kept on disk until they slide out of the window). */
export function tailNames(c: Continuity): Set<string> {
  return new Set(c.tail.map((b) => b.lines[b.lines.length - 1] ?? ''));
}

/** The continuity of every network that has had a transition since it last started fresh. */
export class ContinuityBook {
  readonly #byId = new Map<string, Continuity>();

  forget(id: string): void {
    this.#byId.delete(id);
  }

  /** Before the next programme's FFmpeg starts in `dir`: what was served there becomes the tail. */
  async carryOver(id: string, dir: string, startNumber: number, discontinuity: boolean, listSize: number): Promise<void> {
    const previous = await readFile(join(dir, 'live.m3u8'), 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null; // no earlier programme on disk
      throw error;
    });
    const c = this.#byId.get(id) ?? emptyContinuity(listSize);
    beginProgramme(c, previous, startNumber, discontinuity, listSize);
    this.#byId.set(id, c);
  }

  retained(id: string): ReadonlySet<string> {
    const c = this.#byId.get(id);
    return c === undefined ? new Set() : tailNames(c);
  }

  served(id: string, text: string): string {
    const c = this.#byId.get(id);
    return c === undefined ? text : composePlaylist(text, c);
  }
}
