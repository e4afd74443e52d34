// What services that change durable state need from the state keeper: say "changed", and await "saved".
// A leaf, so streams.ts and webhooks.ts depend on this contract and not on the keeper that implements it.

export interface StateSync {
  /** A durable change was just made in memory (a stream created, deleted or moved, a webhook added...): write it. */
  changed(): void;
  /**
   * Resolves once every change made so far is on disk; rejects with StateWriteError when the write carrying it failed.
   * A route awaits this before answering 2xx (SPEC §12).
   */
  saved(): Promise<void>;
}

/** Memory only (STATE_FILE empty): nothing to write, everything is "saved" at once. */
export const NO_STATE: StateSync = {
  changed() {
    // Nothing is kept across restarts in this mode: there is no write to schedule.
  },
  saved: () => Promise.resolve(),
};
