// Headers that every answer of a route carries but nothing before the answer needs (a playback route's CORS headers):
// set while the route waits on its upstream, instead of before the route can send its upstream request (issue 24.8:
// each such header costs a validated setHeader() in front of a player's first byte). The response class guarantees
// them however the route answers: at the latest, they are set just before its head is written.
import { type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders, ServerResponse } from 'node:http';

export class LateHeadersResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  #late: (() => void) | undefined;

  /** `set` runs once: at setLateHeaders()'s next turn of the event loop, or when the head is written, whichever is first. */
  setLateHeaders(set: () => void): void {
    this.#late = set;
    setImmediate(applyLate, this);
  }

  /** Sets the late headers now, if they were not set yet (idempotent). */
  applyLateHeaders(): void {
    const set = this.#late;
    if (set === undefined) return;
    this.#late = undefined;
    // A head written meanwhile took them with it (writeHead below); after it, setHeader would throw.
    if (!this.headersSent) set();
  }

  // Node writes every head through writeHead (an implicit head too: res.write()/end() call it), so nothing is missed.
  override writeHead(
    statusCode: number,
    reasonOrHeaders?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    headers?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this {
    this.applyLateHeaders();
    // The arguments go on as they came: Node tells a reason phrase from headers by their type.
    return (super.writeHead as (code: number, reason?: unknown, headers?: unknown) => this).call(this, statusCode, reasonOrHeaders, headers);
  }
}

function applyLate(res: LateHeadersResponse): void {
  res.applyLateHeaders();
}
