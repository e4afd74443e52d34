// One upstream request for many identical ones (issue 10 item 7): the first request for a key leads and fetches,
// requests for the same key that arrive meanwhile follow and get what the leader got: a segment's leader hands out its
// fan-out as soon as the upstream answered (followers stream along), a playlist's leader its body once complete.
// A leader that ends without a result (the body was unusable) settles with undefined, and its followers fetch for
// themselves. One whose player left before there was a result abandons the flight: its followers run it again, one
// of them leading, instead of all of them fetching at once.

/** What a follower gets: the leader's result, undefined (fetch your own), or 'rejoin' (begin() the flight again). */
export type FlightOutcome<V> = V | undefined | 'rejoin';

export type FlightTurn<V> =
  | {
      leader: true;
      /** Hands the result to the followers; the flight stays joinable until end(). */
      settle(value: V | undefined): void;
      /** Closes the flight (settling it with undefined if it was not settled): later requests start a new one. */
      end(): void;
      /** Closes the flight for a leader whose player left before it had a result: the followers rejoin. */
      abandon(): void;
    }
  | { leader: false; result: Promise<FlightOutcome<V>> };

export type SingleFlight<V> = ReturnType<typeof createSingleFlight<V>>;

export function createSingleFlight<V>() {
  const flights = new Map<string, Promise<FlightOutcome<V>>>();
  return {
    /** Leads the flight for `key` (the caller must end it, in a `finally`), or follows the one in progress. */
    begin(key: string): FlightTurn<V> {
      const inFlight = flights.get(key);
      if (inFlight !== undefined) return { leader: false, result: inFlight };
      let resolve!: (value: FlightOutcome<V>) => void;
      const result = new Promise<FlightOutcome<V>>((r) => (resolve = r));
      flights.set(key, result);
      const close = (outcome: FlightOutcome<V>): void => {
        resolve(outcome); // a no-op when settled already
        // Only this flight's own entry: a later flight under the same key may have started since.
        if (flights.get(key) === result) flights.delete(key);
      };
      return {
        leader: true,
        settle: (value) => resolve(value),
        end: () => close(undefined),
        abandon: () => close('rejoin'),
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
