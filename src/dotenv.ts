// The .env file format the server reads beside the environment (README "Settings"): a small, strict subset of
// what docker compose and systemd EnvironmentFile accept, with one clear error per bad line.
import { ConfigError } from './errors.ts';

/** KEY=VALUE lines; `#` comments; optional `export `; single quotes literal, double quotes with \n \t \" \\ escapes (may span lines). */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(line);
    if (m === null) throw new ConfigError(`.env line ${lineNo}: expected KEY=VALUE`);
    const key = m[1] ?? '';
    let rest = m[2] ?? '';
    const quote = rest[0];
    if (quote === '"' || quote === "'") {
      // A quoted value ends at the matching unescaped quote, possibly on a later line.
      let body = rest.slice(1);
      let end = findClosingQuote(body, quote);
      while (end < 0 && quote === '"' && i + 1 < lines.length) {
        i++;
        body += '\n' + (lines[i] ?? '');
        end = findClosingQuote(body, quote);
      }
      if (end < 0) throw new ConfigError(`.env line ${lineNo}: unterminated ${quote} quote for ${key}`);
      const after = body.slice(end + 1).trim();
      if (after !== '' && !after.startsWith('#')) throw new ConfigError(`.env line ${lineNo}: unexpected text after the quoted value of ${key}`);
      const inner = body.slice(0, end);
      out[key] = quote === "'" ? inner : unescapeDouble(inner);
      continue;
    }
    // Unquoted: an inline comment starts at ' #'; surrounding spaces are not part of the value.
    const hash = rest.search(/\s#/);
    if (hash >= 0) rest = rest.slice(0, hash);
    out[key] = rest.trim();
  }
  return out;
}

function findClosingQuote(s: string, quote: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && quote === '"') i++;
    else if (s[i] === quote) return i;
  }
  return -1;
}

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };

function unescapeDouble(s: string): string {
  return s.replace(/\\(.)/g, (all, c: string) => ESCAPES[c] ?? all);
}
