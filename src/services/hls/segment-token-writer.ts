// The byte form of a segment's proxy URI (`{dir}{token}.{ext}`, SPEC §5.4), for the rewriter's hot path: one per
// playlist answer, as an object of a class, so that every answer calls the same method (see SegmentUriWriter).
import { type ByteSink, writeBinary } from '../../core/byte-sink.ts';
import type { SegmentUriWriter } from '../../core/m3u8/rewrite-context.ts';
import { writeSegmentExtension, type TokenSealer } from '../../core/token.ts';

export class SegmentTokenWriter implements SegmentUriWriter {
  /** `prefix`: where the answer's `s/` URIs live (an ASCII URL or relative path, ending in '/'). */
  constructor(
    private readonly tokens: TokenSealer,
    private readonly prefix: string,
    private readonly streamId: string,
    private readonly clientId: string,
  ) {}

  write(sink: ByteSink, dir: string, ref: string): void {
    writeBinary(sink, this.prefix);
    this.tokens.sealSegmentInto(sink, this.streamId, this.clientId, dir, ref);
    writeSegmentExtension(sink, ref);
  }
}
