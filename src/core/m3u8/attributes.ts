// Locating values in an RFC 8216 §4.2 attribute list (NAME=value,NAME="quoted, may hold commas") without reparsing it.

/** Where one attribute's value sits in the line: [start, end) excludes the quotes of a quoted-string. */
export interface AttributeSpan {
  name: string;
  start: number;
  end: number;
  quoted: boolean;
}

const COMMA = 0x2c;
const QUOTE = 0x22;
const SPACE = 0x20;
const TAB = 0x09;

/**
 * Calls `visit` for every attribute of the list that starts at `from` (just after the tag's ':'), left to right.
 * Stops early when `visit` returns true. Lenient on purpose: spaces after commas are skipped, and a quoted-string
 * with no closing quote ends the scan, because the line is then malformed and must be left as it is.
 */
export function scanAttributes(line: string, from: number, visit: (span: AttributeSpan) => boolean | void): void {
  const n = line.length;
  let i = from;
  while (i < n) {
    while (i < n && (line.charCodeAt(i) === SPACE || line.charCodeAt(i) === TAB)) i++;
    const eq = line.indexOf('=', i);
    if (eq === -1) return;
    const comma = line.indexOf(',', i);
    // A name holds no comma; "A,B=1" is a stray token followed by an attribute.
    if (comma !== -1 && comma < eq) {
      i = comma + 1;
      continue;
    }
    const name = line.slice(i, eq).trimEnd();
    let start = eq + 1;
    let end: number;
    let quoted = false;
    if (start < n && line.charCodeAt(start) === QUOTE) {
      quoted = true;
      start++;
      end = line.indexOf('"', start);
      if (end === -1) return;
      i = end + 1;
      // Skip anything up to the separator (there should be nothing).
      while (i < n && line.charCodeAt(i) !== COMMA) i++;
    } else {
      end = line.indexOf(',', start);
      if (end === -1) end = n;
      i = end;
    }
    if (visit({ name, start, end, quoted }) === true) return;
    if (i < n && line.charCodeAt(i) === COMMA) i++;
  }
}

/** The span of attribute `name` (compared case-insensitively, for sloppy origins), or undefined. */
export function findAttribute(line: string, from: number, name: string): AttributeSpan | undefined {
  let found: AttributeSpan | undefined;
  const wanted = name.toUpperCase();
  scanAttributes(line, from, (span) => {
    if (span.name.length === wanted.length && span.name.toUpperCase() === wanted) {
      found = span;
      return true;
    }
    return false;
  });
  return found;
}

/** The span of the quoted URI="..." value, or undefined (absent, or unquoted: not valid RFC 8216, left alone). */
export function findUriAttribute(line: string, from: number): AttributeSpan | undefined {
  const span = findAttribute(line, from, 'URI');
  return span?.quoted === true ? span : undefined;
}

/** Replaces the value inside URI="..." and keeps every other byte of the line. Undefined when there is none. */
export function replaceUriAttribute(line: string, from: number, value: string): string | undefined {
  const span = findUriAttribute(line, from);
  if (span === undefined) return undefined;
  return line.slice(0, span.start) + value + line.slice(span.end);
}

/** METHOD=... of EXT-X-KEY / EXT-X-SESSION-KEY, uppercased, or undefined when absent. */
export function readMethod(line: string, from: number): string | undefined {
  const span = findAttribute(line, from, 'METHOD');
  return span === undefined ? undefined : line.slice(span.start, span.end).trim().toUpperCase();
}

/** Index just after the tag's ':' (where its attribute list starts), or -1 for a tag without one. */
export function attributesStart(line: string): number {
  const colon = line.indexOf(':');
  return colon === -1 ? -1 : colon + 1;
}
