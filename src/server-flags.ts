// Reading the server's command line: flags that take a value (the settings') and switches (--help, --debug...), with
// Node's multi-line parse errors turned into one-line ConfigErrors.
import { parseArgs } from 'node:util';
import { ConfigError } from './errors.ts';

/** A flag without a value; `short` is its one-letter form. */
export interface Switch {
  readonly flag: string;
  readonly short?: string;
  readonly help: string;
}

/**
 * util.parseArgs over the settings' flags and the switches; its errors (unknown flag, missing value) become one-line
 * ConfigErrors.
 */
export function readFlags(argv: string[], valueFlags: readonly string[], switches: readonly Switch[]): Map<string, string> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const flag of valueFlags) options[flag] = { type: 'string' };
  for (const s of switches) options[s.flag] = s.short !== undefined ? { type: 'boolean', short: s.short } : { type: 'boolean' };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (err) {
    throw new ConfigError(describeArgError(err));
  }
  const [extra] = parsed.positionals;
  if (extra !== undefined) throw new ConfigError(`unknown command '${extra}' (see m3u-proxy --help and m3u-proxy help)`);
  const out = new Map<string, string>();
  for (const [name, value] of Object.entries(parsed.values)) {
    if (typeof value === 'string') out.set(name, value);
    else if (value === true) out.set(name, '');
  }
  return out;
}

function describeArgError(err: unknown): string {
  if (!(err instanceof TypeError)) throw err;
  const code = (err as NodeJS.ErrnoException).code;
  // Node's own messages span several lines and suggest '--' forms; keep the first line, which names the flag.
  const first = err.message.split('\n')[0] ?? err.message;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const flag = /'([^']+)'/.exec(first)?.[1] ?? first;
    return `unknown option '${flag}' (see --help)`;
  }
  const ambiguous = /^Option '(--[^']+)' argument is ambiguous/.exec(first);
  if (ambiguous !== null) return `option '${ambiguous[1]}' needs a value (write ${ambiguous[1]}=VALUE for one starting with '-')`;
  return `${first.replace(/\.$/, '')} (see --help)`;
}
