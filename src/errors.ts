// The error catalogue: every failure the proxy answers with has a class here with a stable code and HTTP status.
// A leaf module: every layer imports it, it imports nothing.

/** Base of every error that maps to an HTTP answer. `code` is stable; `message` is safe to show (no upstream URLs). */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class BadRequestError extends AppError {
  constructor(message: string, code = 'BAD_REQUEST') {
    super(400, code, message);
  }
}

export class InvalidJsonError extends AppError {
  constructor(message = 'Request body is not valid JSON', options?: ErrorOptions) {
    super(400, 'INVALID_JSON', message, options);
  }
}

/** Longest piece of client input an error message echoes (issue 14: a 422 echoed a 900 KB field name). */
export const MAX_ECHO_CHARS = 64;
/** Whole-message bound for messages that may carry client input, whatever the caller built. */
const MAX_INPUT_MESSAGE_CHARS = 512;

/** Client input as an error message may quote it: a short prefix, with the full length said when cut. */
export function echoInput(value: string, max = MAX_ECHO_CHARS): string {
  return value.length <= max ? value : `${value.slice(0, max)}… (${value.length} chars)`;
}

/** Well-formed input that breaks a rule of the contract (SPEC §3.1: 422). */
export class ValidationError extends AppError {
  constructor(message: string) {
    super(422, 'VALIDATION_ERROR', echoInput(message, MAX_INPUT_MESSAGE_CHARS));
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'API token required. Provide it in the X-API-Token header or the api_token query parameter.') {
    super(401, 'UNAUTHORIZED', message);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'Invalid API token', code = 'FORBIDDEN') {
    super(403, code, message);
  }
}

/** A playback token that does not open under our secret, or was sealed for another stream (SPEC §5.4). */
export class BadTokenError extends AppError {
  constructor(message = 'Invalid or foreign playback token') {
    super(403, 'BAD_TOKEN', message);
  }
}

export class NotFoundError extends AppError {
  constructor(what: string) {
    // `what` may name an id from the request path: bounded like any other echoed input.
    super(404, 'NOT_FOUND', `${echoInput(what, MAX_INPUT_MESSAGE_CHARS)} not found`);
  }
}

export class MethodNotAllowedError extends AppError {
  constructor(readonly allowed: readonly string[]) {
    super(405, 'METHOD_NOT_ALLOWED', 'Method not allowed');
  }
}

export class ConflictError extends AppError {
  constructor(message: string) {
    super(409, 'CONFLICT', message);
  }
}

export class BodyTooLargeError extends AppError {
  constructor(limitBytes: number) {
    super(413, 'BODY_TOO_LARGE', `Request body larger than ${limitBytes} bytes`);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(message = 'Content-Type must be application/json') {
    super(415, 'UNSUPPORTED_MEDIA_TYPE', message);
  }
}

/** The origin could not be reached, reset the connection, or sent something unusable. */
export class UpstreamError extends AppError {
  constructor(message = 'Upstream request failed', options?: ErrorOptions) {
    super(502, 'UPSTREAM_FAILED', message, options);
  }
}

/** The origin answered with a status we cannot pass on (e.g. 404, 5xx). */
export class UpstreamStatusError extends AppError {
  constructor(readonly upstreamStatus: number, message = `Upstream answered HTTP ${upstreamStatus}`) {
    super(502, 'UPSTREAM_STATUS', message);
  }
}

/** A playlist past the configured bound in lines or bytes (issue 14.3): cut there, never streamed on without end. */
export class PlaylistTooLargeError extends AppError {
  constructor(message = 'Upstream playlist is too large') {
    super(502, 'PLAYLIST_TOO_LARGE', message);
  }
}

/** A playlist body where media was expected (a segment URL, /stream): never relayed raw, it holds provider URLs. */
export class PlaylistAsMediaError extends AppError {
  constructor(message = 'Upstream answered a playlist where media was expected') {
    super(502, 'UPSTREAM_PLAYLIST_AS_MEDIA', message);
  }
}

export class UpstreamTimeoutError extends AppError {
  constructor(message = 'Upstream timed out', options?: ErrorOptions) {
    super(504, 'UPSTREAM_TIMEOUT', message, options);
  }
}

/** A stream's failover resolver could not be asked: error, timeout or an answer that is not `{next_url}`. */
export class ResolverError extends AppError {
  constructor(message = 'The failover resolver did not answer usefully') {
    super(502, 'RESOLVER_FAILED', message);
  }
}

/** A broadcast that could not start (or failed within the start grace) or could not be cleaned up: 500 with a string detail (research §6.2). */
export class BroadcastError extends AppError {
  constructor(message: string, code = 'BROADCAST_START_FAILED') {
    super(500, code, message);
  }
}

/** An external program a feature needs is not installed (SPEC §3.3): FFMPEG_NOT_FOUND, STREAMLINK_NOT_FOUND, YTDLP_NOT_FOUND. */
export class ProgramNotFoundError extends AppError {
  constructor(program: 'ffmpeg' | 'streamlink' | 'yt-dlp', status = 502) {
    const code = program === 'ffmpeg' ? 'FFMPEG_NOT_FOUND' : program === 'streamlink' ? 'STREAMLINK_NOT_FOUND' : 'YTDLP_NOT_FOUND';
    super(status, code, `${program} is not installed or not accessible on the proxy host`);
  }
}

/** A transcode or resolver process ended before its first byte (SPEC §13); the message carries its last stderr line, URLs masked. */
export class TranscodeFailedError extends AppError {
  constructor(message: string) {
    super(502, 'TRANSCODE_FAILED', message);
  }
}

/** A new transcode produced nothing within TRANSCODE_START_TIMEOUT. */
export class TranscodeTimeoutError extends AppError {
  constructor(seconds: number) {
    super(504, 'TRANSCODE_TIMEOUT', `The transcoder produced no output within ${seconds} s`);
  }
}

/** TRANSCODE_MAX_PROCESSES are running: a new one is refused (joining a running one always works). */
export class TranscodeCapacityError extends AppError {
  constructor() {
    super(503, 'TRANSCODE_CAPACITY', 'Transcoding capacity reached');
  }
}

/** /hls/{id}/playlist.m3u8 of a transcode that writes a continuous stream (its profile's format and -f disagree). */
export class TranscodeFormatMismatchError extends AppError {
  constructor(id: string) {
    super(409, 'TRANSCODE_FORMAT_MISMATCH', `stream ${id} is a continuous transcode; play /stream/${id}`);
  }
}

export class ShuttingDownError extends AppError {
  constructor() {
    super(503, 'SHUTTING_DOWN', 'Server is shutting down');
  }
}

/** Invalid configuration at start-up: one line on stderr, exit code 2 (SPEC §2). Not an HTTP error. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** A change was applied in memory but the state file could not be written (SPEC §12): no 2xx may be answered. */
export class StateWriteError extends AppError {
  constructor(options?: ErrorOptions) {
    super(500, 'STATE_WRITE_FAILED', 'The change could not be saved to the state file; it would be lost on restart', options);
  }
}

/** The state file cannot be used at start-up (SPEC §12): one line on stderr, exit code 2. Not an HTTP error. */
export class StateError extends Error {
  constructor(
    readonly code: 'STATE_CORRUPT' | 'STATE_NEWER' | 'STATE_UNREADABLE' | 'STATE_UNWRITABLE',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'StateError';
  }
}

export interface ErrorBody {
  detail: string;
  code: string;
}

/** The one place the error body shape is decided (SPEC §9). */
export function toBody(err: AppError): ErrorBody {
  return { detail: err.message, code: err.code };
}

/** True for the errors a vanished client or an aborted request produce: expected, logged at debug at most. */
export function isClientGone(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  return (
    err.name === 'AbortError' ||
    code === 'ABORT_ERR' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    code === 'ERR_STREAM_DESTROYED' ||
    code === 'ECONNRESET' ||
    code === 'EPIPE'
  );
}
