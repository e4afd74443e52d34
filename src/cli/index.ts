// The CLI client's entry (SPEC §10): parse argv, run one command against a server, map failures to stderr and exit codes.
import { clientCommandsHelp, isClientCommand, parseCli, UsageError } from './args.ts';
import { createApiClient, ServerError } from './client.ts';
import { runCommand } from './commands.ts';

export { isClientCommand };

/** `m3u-proxy --help`: the server's options, then the client commands (SPEC §2, §10). */
export function programHelp(serverHelp: string): string {
  return `${serverHelp.trimEnd()}\n\n${clientCommandsHelp()}\n`;
}

export interface ClientIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  signal?: AbortSignal;
}

/** Exit codes: 0 success, 1 the server refused or could not be reached, 2 a usage error. Never throws for those. */
export async function runClientCommand(argv: string[], env: Record<string, string | undefined>, io: ClientIo): Promise<number> {
  try {
    const parsed = parseCli(argv, env);
    if (parsed.kind === 'help') {
      io.stdout.write(parsed.text + '\n');
      return 0;
    }
    const { name, args, options, globals } = parsed;
    const api = createApiClient(globals, io.signal);
    return await runCommand(name, { api, globals, args, options, stdout: io.stdout, signal: io.signal, now: Date.now });
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`m3u-proxy: ${err.message}\nTry 'm3u-proxy help' or 'm3u-proxy <command> --help'.\n`);
      return 2;
    }
    if (err instanceof ServerError) {
      io.stderr.write(`m3u-proxy: ${err.message}\n`);
      return 1;
    }
    // The caller's signal stopped a one-shot command mid-request: quiet, conventional 130 (128 + SIGINT).
    if (io.signal?.aborted === true) return 130;
    throw err;
  }
}
