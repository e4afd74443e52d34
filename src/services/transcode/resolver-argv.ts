// streamlink and yt-dlp command lines (SPEC §13, research §5.2, defect D5): TS on stdout, the stream's User-Agent,
// headers and cookies passed the way each program takes them; options that would read or write local files or run
// commands are refused with 400.
import { BadRequestError } from '../../errors.ts';
import type { ResolverName } from './request.ts';
import type { Cookie } from './cookies.ts';
import { splitTemplate } from './template.ts';

const REFUSED: Record<ResolverName, readonly string[]> = {
  streamlink: ['--config', '--player', '-p', '--output', '-o', '--record', '-r', '--record-and-pipe', '-R', '--logfile', '--http-cookie-jar', '--plugin-dir', '--plugin-dirs'],
  ytdlp: ['--exec', '--exec-before-download', '--config-location', '--config-locations', '-a', '--batch-file', '--load-info-json', '-o', '--output', '-P', '--paths', '--download-archive', '--cache-dir', '--cookies', '--cookies-from-browser', '--netrc', '--netrc-location', '--netrc-cmd', '--plugin-dirs', '--print-to-file', '--ffmpeg-location'],
};
/** Options of the programs that are a prefix of a refused one but are complete options of their own. */
const ALLOWED_PREFIXES: ReadonlySet<string> = new Set(['--http-cookie', '--print']);

/**
 * The refused option an argument stands for, if any. Both programs' parsers (argparse, optparse) take a long option
 * by any unambiguous prefix (`--exec-bef`), and short options in a cluster with the value attached (`-qo/tmp/x`).
 */
function refusedOption(resolver: ResolverName, arg: string): string | undefined {
  const refused = REFUSED[resolver];
  if (arg.startsWith('--')) {
    const option = arg.split('=')[0]!;
    if (option.length < 3 || ALLOWED_PREFIXES.has(option)) return undefined;
    return refused.find((r) => r.startsWith('--') && r.startsWith(option));
  }
  // A short option cluster: its letters until its attached value starts (at the first non-letter).
  const letters = /^-([A-Za-z]+)/.exec(arg)?.[1] ?? '';
  for (const ch of letters) {
    const r = refused.find((x) => x === `-${ch}`);
    if (r !== undefined) return r;
  }
  return undefined;
}

/** resolver_args split like a shell would; 400 for a refused option or a file: URL. */
export function splitResolverArgs(resolver: ResolverName, text: string): string[] {
  const args = splitTemplate(text).map((w) => w.segments.map((s) => ('text' in s ? s.text : '')).join(''));
  for (const a of args) {
    const option = refusedOption(resolver, a);
    if (option !== undefined) throw new BadRequestError(`resolver_args may not use ${option}`);
    if (/file:/i.test(a)) throw new BadRequestError('resolver_args may not name file: URLs');
  }
  return args;
}

export interface ResolverArgvInput {
  resolver: ResolverName;
  url: string;
  args: readonly string[];
  userAgent: string;
  headers: Readonly<Record<string, string>>;
  /** streamlink: one --http-cookie per cookie. */
  cookies: readonly Cookie[];
  /** yt-dlp: the private cookies file. */
  cookiesFile: string | undefined;
}

export function buildResolverArgv(i: ResolverArgvInput): string[] {
  if (i.resolver === 'streamlink') {
    const out = [i.url, ...i.args, '--http-header', `User-Agent=${i.userAgent}`];
    for (const [k, v] of Object.entries(i.headers)) out.push('--http-header', `${k}=${v}`);
    for (const c of i.cookies) out.push('--http-cookie', `${c.name}=${c.value}`);
    out.push('-O');
    return out;
  }
  // yt-dlp: a first word that is not an option is the format selector (the editor's "bestvideo+bestaudio/best …").
  const args = i.args.length > 0 && !i.args[0]!.startsWith('-') ? ['-f', ...i.args] : [...i.args];
  const out = ['-o', '-', ...args, '--user-agent', i.userAgent];
  for (const [k, v] of Object.entries(i.headers)) out.push('--add-header', `${k}:${v}`);
  if (i.cookiesFile !== undefined) out.push('--cookies', i.cookiesFile);
  out.push('--', i.url);
  return out;
}
