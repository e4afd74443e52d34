// One upstream request for many identical ones (issue 10 item 7): the first request for a key leads and fetches,
// requests for the same key that arrive meanwhile follow and get what the leader got: a segment's leader hands out its
// fan-out as soon as the upstream answered (followers stream along), a playlist's leader its body once complete.
// A leader that ends without a result (its player left, the body was unusable) settles with undefined, and its
// followers fetch for themselves.

export type FlightTurn<V> =
  | {
      leader: true;
      /** Hands the result to the followers; the flight stays joinable until end(). */
      settle(value: V | undefined): void;
      /** Closes the flight (settling it with undefined if it was not settled): later requests start a new one. */
      end(): void;
    }
  | { leader: false; result: Promise<V | undefined> };

export type SingleFlight<V> = ReturnType<typeof createSingleFlight<V>>;

export function createSingleFlight<V>() {
  const flights = new Map<string, Promise<V | undefined>>();
  return {
    /** Leads the flight for `key` (the caller must end it, in a `finally`), or follows the one in progress. */
    begin(key: string): FlightTurn<V> {
      const inFlight = flights.get(key);
      if (inFlight !== undefined) return { leader: false, result: inFlight };
      let resolve!: (value: V | undefined) => void;
      const result = new Promise<V | undefined>((r) => (resolve = r));
      flights.set(key, result);
      return {
        leader: true,
        settle: (value) => resolve(value),
        end() {
          resolve(undefined); // a no-op when settled already
          // Only this flight's own entry: a later flight under the same key may have started since.
          if (flights.get(key) === result) flights.delete(key);
        },
      };
    },
    /** Flights in progress, for tests and stats. */
    size: (): number => flights.size,
  };
}

/** The key of one upstream object within one stream; lengths first, so that no two different pairs collide. */
export function flightKey(streamId: string, url: string, variant = ''): string {
  return `${streamId.length}:${streamId}${variant.length}:${variant}${url}`;
}
