// FFmpeg templates (research transcode-broadcast.md §5.1, defects D3/D4): split like a shell splits words, never run
// through one; then each word's `{var}` / `{var|default}` placeholders are filled. Splitting first means a value with
// spaces (a URL, a User-Agent) stays one argument. Every problem is a 400 naming it, before anything is spawned.
import { BadRequestError } from '../../errors.ts';

export type Segment = { text: string } | { name: string; def: string | undefined };

export interface Word {
  segments: Segment[];
  /** Some part was quoted: an empty result is still an argument ("" on purpose). */
  quoted: boolean;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SPACE = new Set([' ', '\t', '\r', '\n']);
/** Longest template accepted: far above any real one, far below harm. */
export const MAX_TEMPLATE_CHARS = 16_384;

/** Shell-like words: blanks separate; '…' is literal; "…" knows \" and \\; a backslash outside quotes escapes. */
export function splitTemplate(template: string): Word[] {
  if (template.length > MAX_TEMPLATE_CHARS) throw new BadRequestError(`Template is longer than ${MAX_TEMPLATE_CHARS} characters`);
  if (template.includes('\0')) throw new BadRequestError('Template contains a NUL character');
  const words: Word[] = [];
  let word: Word | null = null;
  let text = '';
  const cur = (): Word => (word ??= { segments: [], quoted: false });
  const flushText = (): void => {
    if (text !== '') cur().segments.push({ text });
    text = '';
  };
  const endWord = (): void => {
    flushText();
    if (word) words.push(word);
    word = null;
  };
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c === '{') {
      const close = template.indexOf('}', i + 1);
      const open = template.indexOf('{', i + 1);
      if (close < 0 || (open >= 0 && open < close)) throw new BadRequestError(`Template has an unbalanced '{' at character ${i + 1}`);
      const body = template.slice(i + 1, close);
      const bar = body.indexOf('|');
      const name = bar < 0 ? body : body.slice(0, bar);
      if (!NAME.test(name)) throw new BadRequestError(`Template placeholder {${body}} has no valid variable name`);
      flushText();
      cur().segments.push({ name, def: bar < 0 ? undefined : body.slice(bar + 1) });
      i = close;
      continue;
    }
    if (c === '}') throw new BadRequestError(`Template has an unbalanced '}' at character ${i + 1}`);
    if (quote === "'") {
      if (c === "'") quote = null;
      else text += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && (template[i + 1] === '"' || template[i + 1] === '\\')) text += template[++i];
      else text += c;
      continue;
    }
    if (SPACE.has(c)) {
      if (word !== null || text !== '') endWord();
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      cur().quoted = true;
      continue;
    }
    if (c === '\\' && i + 1 < template.length) {
      text += template[++i];
      cur();
      continue;
    }
    text += c;
    cur();
  }
  if (quote !== null) throw new BadRequestError(`Template has an unbalanced ${quote === '"' ? 'double' : 'single'} quote`);
  endWord();
  return words;
}

export interface Rendered {
  args: string[];
  /** Index in `args` of the argument that came from `-i {input_url}`. */
  inputIndex: number;
}

function isPlaceholder(w: Word | undefined, name: string): boolean {
  const s = w?.segments;
  return s !== undefined && s.length === 1 && 'name' in s[0]! && s[0].name === name;
}

function isText(w: Word | undefined, text: string): boolean {
  const s = w?.segments;
  return s !== undefined && s.length === 1 && 'text' in s[0]! && s[0].text === text;
}

/**
 * Fills the placeholders: a known variable, else its default, else a 400 listing every such name. Words that come
 * out empty (`{output_args|}`) are dropped unless quoted. The template must hold `-i {input_url}` as two words.
 */
export function renderTemplate(template: string, vars: Readonly<Record<string, string>>): Rendered {
  const words = splitTemplate(template.trim());
  const at = words.findIndex((w, i) => isText(w, '-i') && isPlaceholder(words[i + 1], 'input_url'));
  if (at < 0) throw new BadRequestError('Template must contain -i {input_url}');
  const missing = new Set<string>();
  const args: string[] = [];
  let inputIndex = -1;
  words.forEach((w, i) => {
    let out = '';
    for (const s of w.segments) {
      if ('text' in s) out += s.text;
      else if (Object.hasOwn(vars, s.name)) out += vars[s.name];
      else if (s.def !== undefined) out += s.def;
      else missing.add(s.name);
    }
    if (out === '' && !w.quoted) return;
    if (i === at + 1) inputIndex = args.length;
    args.push(out);
  });
  if (missing.size > 0) throw new BadRequestError(`Template uses unknown variables without a default: ${[...missing].map((n) => `{${n}}`).join(', ')}`);
  return { args, inputIndex };
}
