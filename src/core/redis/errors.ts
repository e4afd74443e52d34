// Typed Redis failures: `code` says what went wrong on our side; a server `-ERR` reply keeps its message.

export type RedisErrorCode = 'REDIS_UNAVAILABLE' | 'REDIS_TIMEOUT' | 'REDIS_CLOSED';

export class RedisError extends Error {
  constructor(readonly code: RedisErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The server answered the command with an error reply (e.g. `ERR ...`, `NOSCRIPT ...`, `WRONGTYPE ...`). */
export class RedisReplyError extends Error {
  readonly code = 'REDIS_REPLY';
  /** First word of the reply, e.g. `ERR`, `NOSCRIPT`, `WRONGPASS`. */
  readonly prefix: string;
  constructor(message: string) {
    super(message);
    this.name = 'RedisReplyError';
    this.prefix = message.split(' ', 1)[0] ?? '';
  }
}
