// What every CLI command handler receives: the parsed arguments, the API client, the output stream and a clock.
import type { Globals, OptionValues } from './args.ts';
import type { ApiClient } from './client.ts';

export interface CommandContext {
  readonly api: ApiClient;
  readonly globals: Globals;
  /** Positionals after the command word. */
  readonly args: readonly string[];
  readonly options: OptionValues;
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  /** Aborts long-running commands (monitor); when absent, monitor stops on SIGINT itself. */
  readonly signal?: AbortSignal | undefined;
  readonly now: () => number;
}
