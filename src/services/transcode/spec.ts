// What a transcode stream runs, kept by stream id beside the registry's record: the program, the output kind, and
// how to build the process for a given URL (failover restarts the same arguments on the next URL).
import type { OutputInfo } from './output.ts';
import type { ProgramName } from './process-start.ts';

export interface PreparedProcess {
  args: string[];
  cwd?: string;
  /** Removes what prepare() created (a private cookies file); runs when the process has exited. */
  cleanup?: () => Promise<void>;
}

export interface TranscodeSpec {
  readonly streamId: string;
  readonly program: ProgramName;
  readonly output: OutputInfo;
  /** The FFmpeg arguments with the input masked, as metadata shows them; resolvers: their arguments. */
  readonly maskedArgs: readonly string[];
  /** `hlsDir` only for HLS output. */
  prepare(url: string, hlsDir: string | undefined): Promise<PreparedProcess>;
}

export class SpecCatalog {
  readonly #specs = new Map<string, TranscodeSpec>();

  set(spec: TranscodeSpec): void {
    this.#specs.set(spec.streamId, spec);
  }

  get(id: string): TranscodeSpec | undefined {
    return this.#specs.get(id);
  }

  delete(id: string): void {
    this.#specs.delete(id);
  }
}
