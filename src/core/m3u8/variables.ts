// Variable substitution (draft-pantos-hls-rfc8216bis §4.4.2.3 EXT-X-DEFINE, §4.3 variable references): `{$name}` in
// a URI is replaced before the URI is resolved and sealed, since the player never sees the upstream URI to do it.
import { findAttribute } from './attributes.ts';

/** Where the values of IMPORT and QUERYPARAM come from, and who hears about every definition. */
export interface DefineSources {
  baseUrl: string;
  queryUrl?: string;
  imports?: ReadonlyMap<string, string>;
  onDefine?(name: string, value: string): void;
}

// §4.4.2.3: a variable name is made of [a-zA-Z0-9-_] characters.
const REFERENCE = /\{\$([A-Za-z0-9_-]+)\}/g;
const NON_ASCII = /[^\x00-\x7f]/;
/** The most a URI may grow by substitution; the longest line the rewriter accepts (lines.ts MAX_LINE_BYTES). */
const MAX_SUBSTITUTED_CHARS = 65_536;

/**
 * Replaces every `{$name}` whose variable is defined. A reference to an undefined variable stays as written: the
 * RFC makes such a playlist an error for the player, and the literal text can only lead to a 404 at the origin.
 */
export function substituteVariables(text: string, vars: ReadonlyMap<string, string>): string {
  if (vars.size === 0) return text;
  let grown = 0;
  const out = text.replace(REFERENCE, (whole, name: string) => {
    const value = vars.get(name);
    if (value === undefined || grown + value.length > MAX_SUBSTITUTED_CHARS) return whole;
    grown += value.length;
    return value;
  });
  // Many references to a long value could build a huge string from one line: past the cap the rest stays as written.
  return out;
}

/** A quoted attribute value of the line, or undefined. */
function quoted(line: string, from: number, name: string): string | undefined {
  const span = findAttribute(line, from, name);
  return span?.quoted === true ? line.slice(span.start, span.end) : undefined;
}

/**
 * The EXT-X-DEFINE line a player gets, when it is not the provider's own. A QUERYPARAM definition names a parameter of
 * the provider's playlist URL; the player's URL (the proxy's) has no such parameter, and hls.js fails the playlist on
 * it. Every reference was substituted here already, and the provider's value must not reach the player: the player
 * gets the variable defined, empty. Undefined for any other line (passed on unchanged).
 */
export function defineForPlayer(line: string, from: number): string | undefined {
  const param = quoted(line, from, 'QUERYPARAM');
  return param === undefined ? undefined : `${line.slice(0, from)}NAME="${param}",VALUE=""`;
}

/** The value of query parameter `name` of `url` (percent-decoded, as URLSearchParams does), or undefined. */
function queryParam(url: string, name: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  return new URL(url).searchParams.get(name) ?? undefined;
}

/**
 * Applies one EXT-X-DEFINE line (attributes from `from`) to `vars`: NAME/VALUE, IMPORT (from `imports`, the
 * multivariant playlist's variables) or QUERYPARAM (from the playlist's own URL). `binary`: the line is bytes as
 * latin1, so a value taken from elsewhere (a decoded query parameter) is turned into that form too.
 * A definition that cannot be resolved defines nothing; references to it then stay as written.
 */
export function applyDefine(line: string, from: number, vars: Map<string, string>, src: DefineSources, binary: boolean): void {
  const name = quoted(line, from, 'NAME');
  if (name !== undefined) {
    const value = quoted(line, from, 'VALUE');
    if (value !== undefined) define(vars, src, name, value);
    return;
  }
  const imported = quoted(line, from, 'IMPORT');
  if (imported !== undefined) {
    const value = src.imports?.get(imported);
    if (value !== undefined) define(vars, src, imported, value);
    return;
  }
  const param = quoted(line, from, 'QUERYPARAM');
  if (param !== undefined) {
    // The URL the playlist was asked for, else the one that answered (a redirect may drop the query).
    let value = (src.queryUrl === undefined ? undefined : queryParam(src.queryUrl, param)) ?? queryParam(src.baseUrl, param);
    if (value === undefined) return;
    if (binary && NON_ASCII.test(value)) value = Buffer.from(value, 'utf8').toString('latin1');
    define(vars, src, param, value);
  }
}

function define(vars: Map<string, string>, src: DefineSources, name: string, value: string): void {
  vars.set(name, value);
  src.onDefine?.(name, value);
}
