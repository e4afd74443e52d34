// The CLI's command table and argument parsing (SPEC §10): argv → a command with its global flags, or a usage error; help is generated from the table.
import { parseArgs } from 'node:util';
import { VALUE_FLAGS } from '../config.ts';

/** A usage mistake: printed on stderr with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const DEFAULT_SERVER_URL = 'http://localhost:8085';

interface OptionDef {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly short?: string;
  /** Placeholder shown in help, e.g. URL. */
  readonly value?: string;
  readonly help: string;
  /** Left out of --help (test hooks such as monitor --count). */
  readonly hidden?: boolean;
}

interface CommandSpec {
  /** Short form for the general help's list; `usage` is the full form for the command's own help. */
  readonly synopsis: string;
  readonly usage: string;
  readonly summary: string;
  readonly options: Readonly<Record<string, OptionDef>>;
  /** Checks the positionals after the command word; returns a problem or undefined. */
  readonly check: (args: readonly string[]) => string | undefined;
}

const GLOBAL_OPTIONS = {
  url: { type: 'string', value: 'URL', help: `server base URL (env M3U_PROXY_URL; default ${DEFAULT_SERVER_URL})` },
  token: { type: 'string', value: 'TOKEN', help: 'API token, sent as X-API-Token (env API_TOKEN)' },
  json: { type: 'boolean', help: 'print the raw JSON answer' },
  help: { type: 'boolean', short: 'h', help: 'show help' },
} as const satisfies Record<string, OptionDef>;

const exactly = (n: number, what: string) => (args: readonly string[]) =>
  args.length < n ? `missing ${what}` : args.length > n ? `unexpected argument '${args[n] ?? ''}'` : undefined;

const WEBHOOK_ACTIONS = ['list', 'add', 'remove', 'test'];

export const COMMANDS = {
  create: {
    synopsis: 'create URL [options]',
    usage: 'create URL [--failover URL]... [--user-agent UA] [--header K:V]... [--meta K=V]...',
    summary: 'register a provider URL as a stream and print its playback URL',
    options: {
      failover: { type: 'string', multiple: true, value: 'URL', help: 'failover URL, in order (repeat, or list several after one --failover)' },
      'user-agent': { type: 'string', value: 'UA', help: 'upstream User-Agent for this stream' },
      header: { type: 'string', multiple: true, value: 'K:V', help: 'extra upstream header (repeatable)' },
      meta: { type: 'string', multiple: true, value: 'K=V', help: 'metadata entry (repeatable)' },
    },
    check: exactly(1, 'URL'),
  },
  list: { synopsis: 'list', usage: 'list', summary: 'list the streams', options: {}, check: exactly(0, '') },
  info: { synopsis: 'info ID', usage: 'info ID', summary: 'show a stream and its clients', options: {}, check: exactly(1, 'stream ID') },
  delete: { synopsis: 'delete ID', usage: 'delete ID', summary: 'delete a stream and disconnect its players', options: {}, check: exactly(1, 'stream ID') },
  failover: { synopsis: 'failover ID', usage: 'failover ID', summary: 'switch a stream to its next URL', options: {}, check: exactly(1, 'stream ID') },
  stats: { synopsis: 'stats', usage: 'stats', summary: 'totals, streams and clients', options: {}, check: exactly(0, '') },
  health: { synopsis: 'health', usage: 'health', summary: 'server health (exit 1 when not healthy)', options: {}, check: exactly(0, '') },
  monitor: {
    synopsis: 'monitor [--interval S]',
    usage: 'monitor [--interval S]',
    summary: 'live view of streams and clients with bit rates (Ctrl-C stops)',
    options: {
      interval: { type: 'string', value: 'S', help: 'seconds between polls (default 2)' },
      count: { type: 'string', value: 'N', help: 'stop after N polls', hidden: true },
    },
    check: exactly(0, ''),
  },
  webhooks: {
    synopsis: 'webhooks list|add|remove|test [URL]',
    usage: 'webhooks list | add URL [--event E]... | remove URL | test URL',
    summary: 'manage webhooks',
    options: { event: { type: 'string', multiple: true, value: 'E', help: 'event type for add (repeatable; default: all)' } },
    check: (args) => {
      const [action, url, extra] = args;
      if (action === undefined) return `missing action (${WEBHOOK_ACTIONS.join(', ')})`;
      if (!WEBHOOK_ACTIONS.includes(action)) return `unknown action '${action}' (${WEBHOOK_ACTIONS.join(', ')})`;
      if (action === 'list') return url === undefined ? undefined : `unexpected argument '${url}'`;
      if (url === undefined) return `missing webhook URL`;
      return extra === undefined ? undefined : `unexpected argument '${extra}'`;
    },
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;
export type OptionValues = Readonly<Record<string, string | boolean | string[] | undefined>>;

export interface Globals {
  /** Base URL without a trailing slash; may carry the server's ROOT_PATH. */
  readonly url: string;
  readonly token: string | undefined;
  readonly json: boolean;
}

export type ParsedCli =
  | { kind: 'help'; text: string }
  | { kind: 'command'; name: CommandName; args: string[]; options: OptionValues; globals: Globals };

function isCommandName(word: string): word is CommandName {
  return Object.hasOwn(COMMANDS, word);
}

/** Flags whose value is the next word: the CLI's global ones, and the server's (`--log-level info` starts a server). */
const TAKES_VALUE: ReadonlySet<string> = new Set(['--url', '--token', ...VALUE_FLAGS.map((f) => `--${f}`)]);

/** The first positional word, skipping global flags and the server's flags, with their values. */
function findCommandWord(argv: readonly string[]): { word: string; index: number } | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') return undefined;
    if (TAKES_VALUE.has(a)) i++;
    else if (!a.startsWith('-') || a === '-') return { word: a, index: i };
  }
  return undefined;
}

/** True when argv names a client command, so main runs the CLI rather than the server. */
export function isClientCommand(argv: readonly string[]): boolean {
  const found = findCommandWord(argv);
  return found !== undefined && (found.word === 'help' || isCommandName(found.word));
}

export function parseCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedCli {
  const found = findCommandWord(argv);
  if (found === undefined) {
    if (argv.includes('--help') || argv.includes('-h')) return { kind: 'help', text: generalHelp() };
    throw new UsageError('missing command');
  }
  if (found.word === 'help') {
    const topic = argv[found.index + 1];
    if (topic === undefined) return { kind: 'help', text: generalHelp() };
    if (!isCommandName(topic)) throw new UsageError(`unknown command '${topic}'`);
    return { kind: 'help', text: commandHelp(topic) };
  }
  const name = found.word;
  if (!isCommandName(name)) throw new UsageError(`unknown command '${name}'`);
  const spec: CommandSpec = COMMANDS[name];

  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...GLOBAL_OPTIONS, ...spec.options }, strict: true, allowPositionals: true, tokens: true });
  } catch (err) {
    throw new UsageError(`${name}: ${describeArgError(err)}`);
  }
  const values: Record<string, string | boolean | string[] | undefined> = { ...parsed.values };
  if (values['help'] === true) return { kind: 'help', text: commandHelp(name) };

  // positionals[0] is the command word itself.
  let args = parsed.positionals.slice(1);
  if (name === 'create') args = gatherFailovers(parsed.tokens, values);
  const problem = spec.check(args);
  if (problem !== undefined) throw new UsageError(`${name}: ${problem}`);
  return { kind: 'command', name, args, options: values, globals: readGlobals(values, env) };
}

type ArgToken =
  | { kind: 'option'; name: string; value?: string | undefined }
  | { kind: 'positional'; value: string }
  | { kind: 'option-terminator' };

/** The reference CLI took `--failover A B` (argparse nargs='+'): positionals right after a --failover value join the failover list. */
function gatherFailovers(tokens: readonly ArgToken[], values: Record<string, string | boolean | string[] | undefined>): string[] {
  const args: string[] = [];
  const failovers: string[] = [];
  let afterFailover = false;
  let seenCommand = false;
  for (const t of tokens) {
    if (t.kind === 'option') {
      afterFailover = t.name === 'failover';
      if (afterFailover && t.value !== undefined) failovers.push(t.value);
    } else if (t.kind === 'option-terminator') afterFailover = false;
    else if (!seenCommand) seenCommand = true; // the command word itself
    else if (afterFailover) failovers.push(t.value);
    else args.push(t.value);
  }
  values['failover'] = failovers;
  return args;
}

function readGlobals(values: Record<string, string | boolean | string[] | undefined>, env: Readonly<Record<string, string | undefined>>): Globals {
  const flagUrl = typeof values['url'] === 'string' ? values['url'] : undefined;
  const raw = flagUrl ?? (env['M3U_PROXY_URL'] || undefined) ?? DEFAULT_SERVER_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err; // URL parse failures are TypeErrors
    throw new UsageError(`invalid ${flagUrl === undefined ? 'M3U_PROXY_URL' : '--url'} '${raw}': must be an http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`invalid ${flagUrl === undefined ? 'M3U_PROXY_URL' : '--url'} '${raw}': must be an http(s) URL`);
  }
  const flagToken = typeof values['token'] === 'string' ? values['token'] : undefined;
  const token = flagToken ?? env['API_TOKEN'];
  return { url: (url.origin + url.pathname).replace(/\/+$/, ''), token: token === '' ? undefined : token, json: values['json'] === true };
}

function describeArgError(err: unknown): string {
  if (!(err instanceof TypeError)) throw err;
  const first = err.message.split('\n')[0] ?? err.message;
  const unknown = /^Unknown option '([^']+)'/.exec(first);
  if (unknown !== null) return `unknown option '${unknown[1]}'`;
  const ambiguous = /^Option '(--[^']+)' argument is ambiguous/.exec(first);
  if (ambiguous !== null) return `option '${ambiguous[1]}' needs a value (write ${ambiguous[1]}=VALUE for one starting with '-')`;
  return first.replace(/\.$/, '');
}

function optionLines(options: Readonly<Record<string, OptionDef>>): string[][] {
  return Object.entries(options)
    .filter(([, o]) => o.hidden !== true)
    .map(([name, o]) => [`${o.short === undefined ? '' : `-${o.short}, `}--${name}${o.value === undefined ? '' : ` ${o.value}`}`, o.help]);
}

function twoColumns(rows: readonly string[][]): string[] {
  const width = Math.max(...rows.map((r) => (r[0] ?? '').length));
  return rows.map((r) => `  ${(r[0] ?? '').padEnd(width)}  ${r[1] ?? ''}`.trimEnd());
}

function commandLines(): string[] {
  return twoColumns(Object.values(COMMANDS as Record<string, CommandSpec>).map((c) => [c.synopsis, c.summary]));
}

export function generalHelp(): string {
  return [
    'Usage: m3u-proxy <command> [options]    (m3u-proxy with no command runs the server; see m3u-proxy --help)',
    '',
    'Commands:',
    ...commandLines(),
    '',
    'Global options (before or after the command):',
    ...twoColumns(optionLines(GLOBAL_OPTIONS)),
    '',
    'm3u-proxy help <command> or m3u-proxy <command> --help shows one command.',
    'Exit codes: 0 success, 1 server or network error, 2 usage error.',
  ].join('\n');
}

/** The client part of `m3u-proxy --help`, after the server's options: one help names everything the program does. */
export function clientCommandsHelp(): string {
  return [
    'Client commands (m3u-proxy <command> [options] talks to a running server):',
    ...commandLines(),
    '',
    'Client options (before or after the command):',
    ...twoColumns(optionLines(GLOBAL_OPTIONS)),
    '',
    'm3u-proxy help <command> or m3u-proxy <command> --help shows one command.',
  ].join('\n');
}

export function commandHelp(name: CommandName): string {
  const spec: CommandSpec = COMMANDS[name];
  const own = optionLines(spec.options);
  return [
    `Usage: m3u-proxy ${spec.usage}`,
    '',
    `${spec.summary.charAt(0).toUpperCase()}${spec.summary.slice(1)}.`,
    ...(own.length > 0 ? ['', 'Options:', ...twoColumns(own)] : []),
    '',
    'Global options:',
    ...twoColumns(optionLines(GLOBAL_OPTIONS)),
  ].join('\n');
}
