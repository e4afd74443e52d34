// Broadcasts (SPEC §14, research §6): one FFmpeg per network writing a rolling HLS window, started, chained, stopped
// and reported to the editor's callback. Work on one network is serialised by a per-network lock; networks never
// wait for each other (B1). Every exit that is not ours sends exactly one callback (B2, §6.6.7).
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { maskUrls } from '../../core/process/mask.ts';
import type { ChildExit } from '../../core/process/child.ts';
import { probeProgram } from '../../core/process/program.ts';
import { BroadcastError, NotFoundError } from '../../errors.ts';
import { lastSegmentNumber } from './broadcast-dir.ts';
import { broadcastEvent, sendCallback } from './callbacks.ts';
import { ContinuityBook } from './continuity.ts';
import { deleteMedia, deleteUnlisted } from './dir-watch.ts';
import { exitCode, exitText, exitWithin, readrateSupported } from './ffmpeg-exit.ts';
import { DirBook } from './dir-book.ts';
import { removeIfIdle, sweepBroadcastDirs } from './dir-gc.ts';
import { KeyedLock } from './keyed-lock.ts';
import type { BroadcastManagerOptions } from './manager-options.ts';
import { spawnProgramme, type Entry, type Placement } from './programme.ts';
import { StartRetries } from './start-retries.ts';
import type { ProgrammeInput, StartInput } from './start-input.ts';
import { listItem, statusBody, type BroadcastFacts } from './views.ts';

/** SIGTERM, then SIGKILL after this (research §6.2 step 1). */
const STOP_GRACE_MS = 5000;
const FINISHED_TTL_MS = 10 * 60_000;
export class BroadcastManager {
  readonly #o: BroadcastManagerOptions;
  readonly #lock = new KeyedLock();
  readonly #entries = new Map<string, Entry>();
  /** The directory each network last used, so playlists, segments and DELETE find an output_dir after a stop. */
  readonly #dirs: DirBook;
  readonly #expiry = new Map<string, NodeJS.Timeout>();
  readonly #retries: StartRetries;
  /** B12: per network, what its served playlist carries over from earlier programmes. */
  readonly #continuity = new ContinuityBook();
  #readrate: Promise<boolean> | undefined;
  #closing = false;

  constructor(options: BroadcastManagerOptions) {
    this.#o = options;
    this.#dirs = new DirBook(options);
    this.#retries = new StartRetries(options.startRetries ?? { max: 3, windowMs: 300_000, cooldownMs: 15_000 });
  }

  start(id: string, input: StartInput): Promise<Record<string, unknown>> {
    return this.#lock.run(id, async () => {
      this.#retries.check(id);
      const readrate = await this.#ffmpegReady();
      let startNumber = input.segmentStartNumber;
      let discontinuity = input.addDiscontinuity;
      const dir = join(input.outputDir ?? (input.dvr ? this.#o.dvrDir : this.#o.broadcastDir), `broadcast_${id}`);
      const old = this.#entries.get(id);
      if (old !== undefined) {
        // A start while one runs or just ended is a transition: numbering continues, with a discontinuity (§6.6.3).
        const final = await this.#retire(old);
        this.#forget(id);
        if (startNumber === 0) {
          startNumber = final + 1;
          discontinuity = true;
        }
      }
      const fresh = old === undefined && startNumber === 0 && !discontinuity;
      // With subtitles the WebVTT playlist FFmpeg writes would no longer line up with a composed video playlist.
      if (fresh || input.dvr || input.subtitles !== null || (old !== undefined && old.dir !== dir)) this.#continuity.forget(id);
      else await this.#continuity.carryOver(id, dir, startNumber, discontinuity, input.listSize);
      if (old !== undefined) await deleteUnlisted(old.dir, this.#continuity.retained(id));
      await mkdir(dir, { recursive: true, mode: 0o755 });
      if (fresh) await deleteMedia(dir);
      let entry: Entry;
      try {
        entry = await this.#launch(id, input, startNumber, discontinuity, readrate, { dir, dvr: input.dvr, metadata: input.metadata, next: input.next });
      } catch (error) {
        if (error instanceof BroadcastError) this.#retries.failed(id);
        throw error;
      }
      this.#retries.clear(id);
      return statusBody(this.#facts(entry));
    });
  }

  stop(id: string): Promise<Record<string, unknown>> {
    return this.#lock.run(id, async () => {
      const entry = this.#entries.get(id);
      if (entry === undefined) throw new NotFoundError('Broadcast');
      const wasRecording = entry.child.running;
      const final = await this.#retire(entry);
      this.#forget(id);
      this.#retries.clear(id);
      // m3u-editor's DVR receiver post-processes a recording on `recording_stopped` (research §6.5); a recording
      // that already ended has had its programme_ended, and a second event would post-process it twice.
      if (entry.dvr && wasRecording) this.#callback(entry, 'recording_stopped', { final_segment_number: final, duration_streamed: secondsSince(entry.startedAt) });
      return { message: 'Broadcast stopped', network_id: id, final_segment_number: final, status: 'stopped' };
    });
  }

  /** Undefined when the network is not in the table (never started, stopped, deleted, or before a restart). */
  status(id: string): Record<string, unknown> | undefined {
    const entry = this.#entries.get(id);
    return entry === undefined ? undefined : statusBody(this.#facts(entry));
  }

  list(): Record<string, unknown> {
    const broadcasts = [...this.#entries.values()].map((e) => listItem(this.#facts(e)));
    return { broadcasts, count: broadcasts.length };
  }

  /** How many networks are listed, and at most `max` of them, running ones first (the dashboard's bounded list). */
  facts(max: number): { total: number; facts: BroadcastFacts[] } {
    const ended = (e: Entry): number => (e.status === 'stopped' || e.status === 'failed' ? 1 : 0);
    const all = [...this.#entries.values()].sort((a, b) => ended(a) - ended(b));
    return { total: all.length, facts: all.slice(0, max).map((e) => this.#facts(e)) };
  }

  /** Kills the process at once and removes the network's files, wherever they were written. */
  remove(id: string): Promise<Record<string, unknown>> {
    return this.#lock.run(id, async () => {
      const entry = this.#entries.get(id);
      if (entry !== undefined) {
        entry.quiet = true;
        entry.child.kill();
        await entry.child.exited;
        entry.watch.stop();
        this.#forget(id);
      }
      // Every base it may have used: after a restart the proxy no longer knows which one it was (B6).
      for (const dir of this.#dirs.all(id)) {
        try {
          await rm(dir, { recursive: true, force: true });
        } catch (error) {
          this.#o.logger.error('broadcast files not removed', { network_id: id, dir, error: String(error) });
          throw new BroadcastError('Failed to clean up broadcast', 'BROADCAST_CLEANUP_FAILED');
        }
      }
      this.#dirs.forget(id);
      this.#retries.clear(id);
      this.#continuity.forget(id);
      return { message: `Broadcast ${id} cleaned up successfully` };
    });
  }

  /** Where the network's files are (its process's directory, the one it last used, or one found on disk). */
  dirOf(id: string): Promise<string> {
    return this.#dirs.find(id, this.#entries.get(id)?.dir);
  }

  /**
   * Removes abandoned `broadcast_<id>` directories (start-up and the sweeper's timer): not listed, not read for
   * HLS_GC_AGE_THRESHOLD, nothing written for as long (DVR: at least a day). Resolves with what it removed.
   */
  async sweepDirs(): Promise<string[]> {
    const ageMs = this.#o.gcAgeMs;
    this.#retries.prune();
    if (ageMs === undefined || this.#closing) return [];
    this.#dirs.pruneReads(ageMs, Date.now());
    const inUse = (id: string) => this.#entries.has(id) || this.#dirs.readWithin(id, ageMs, Date.now());
    const removed = await sweepBroadcastDirs({
      bases: this.#dirs.gcBases(ageMs),
      inUse,
      // Under the network's lock: a start that is creating the directory right now wins.
      remove: (id, dir, minAgeMs) => this.#lock.run(id, async () => {
        if (inUse(id) || !(await removeIfIdle(dir, minAgeMs, Date.now()))) return false;
        this.#dirs.removed(id, dir);
        this.#continuity.forget(id);
        return true;
      }),
      onError: (dir, error) => this.#o.logger.warn('broadcast directory clean-up failed', { dir, error: String(error) }),
    });
    if (removed.length > 0) this.#o.logger.info('abandoned broadcast directories removed', { count: removed.length });
    return removed;
  }

  /** Shutdown: every FFmpeg stopped, no callback (research §6.2). */
  async close(): Promise<void> {
    this.#closing = true;
    for (const timer of this.#expiry.values()) clearTimeout(timer);
    this.#expiry.clear();
    const entries = [...this.#entries.values()];
    for (const entry of entries) {
      entry.quiet = true;
      entry.watch.stop();
    }
    await Promise.all(entries.map((e) => e.child.stop(STOP_GRACE_MS)));
  }

  /** FFmpeg is probed once (version decides -readrate, B14); a missing one answers 500, never a callback (§6.6.8). */
  async #ffmpegReady(): Promise<boolean> {
    this.#readrate ??= probeProgram(this.#o.ffmpegPath).then((probe) => {
      if (!probe.found) {
        this.#readrate = undefined; // installed later: probe again on the next start
        throw new BroadcastError(`Failed to start broadcast: ffmpeg ${probe.reason} (FFMPEG_PATH=${probe.path})`, 'FFMPEG_NOT_FOUND');
      }
      return readrateSupported(probe.version);
    });
    return this.#readrate;
  }

  async #launch(id: string, p: ProgrammeInput, startNumber: number, discontinuity: boolean, readrate: boolean, at: Placement): Promise<Entry> {
    const started = await spawnProgramme(this.#o, { id, programme: p, startNumber, discontinuity, readrate, at, retained: () => this.#continuity.retained(id) });
    const { child, watch } = started;
    this.#entries.set(id, started);
    this.#dirs.remember(id, at.dir);
    watch.start();
    void child.exited.then((exit) => this.#onExit(started, exit)).catch((error: unknown) => {
      this.#o.logger.error('broadcast exit handling failed', { network_id: id, error: String(error) });
    });
    this.#o.logger.info('broadcast started', { network_id: id, pid: child.pid, start_number: startNumber, discontinuity });
    const early = await exitWithin(child, this.#o.startGraceMs);
    if (early !== undefined && early.code !== 0) {
      started.quiet = true;
      watch.stop();
      if (this.#entries.get(id) === started) this.#forget(id);
      const why = started.inputError ?? maskUrls(child.lastLines().at(-1) ?? '');
      throw new BroadcastError(`Broadcast ${id} failed shortly after start: ${exitText(early)}${why === '' ? '' : `: ${why}`}`);
    }
    started.answered = true;
    return started;
  }

  async #onExit(entry: Entry, exit: ChildExit): Promise<void> {
    await entry.watch.tick();
    entry.watch.stop();
    const failed = exit.code !== 0 || entry.stalled;
    if (!entry.quiet) entry.status = failed ? 'failed' : 'stopped';
    if (entry.quiet || (!entry.answered && failed) || this.#closing) return;
    const final = (await lastSegmentNumber(entry.dir)) ?? entry.startNumber;
    const duration = secondsSince(entry.startedAt);
    if (failed) {
      const error = entry.stalled ? 'stalled' : `${exitText(exit)}${entry.inputError === null ? '' : `: ${entry.inputError}`}`;
      entry.errorMessage = error;
      const stderr = maskUrls(entry.child.lastLines().slice(-3).join(' | '));
      this.#o.logger.warn('broadcast failed', { network_id: entry.id, exit_code: exitCode(exit), error, stderr });
      this.#callback(entry, 'broadcast_failed', {
        exit_code: exitCode(exit), final_segment_number: final, duration_streamed: duration, error,
        error_type: entry.stalled ? 'stalled' : 'ffmpeg_exited',
      });
    } else {
      this.#o.logger.info('broadcast programme ended', { network_id: entry.id, final_segment_number: final });
      const data: Record<string, unknown> = { exit_code: 0, final_segment_number: final, duration_streamed: duration };
      if (entry.next !== null) {
        const next = await this.#autoTransition(entry, entry.next, final + 1);
        data['auto_transitioned'] = next !== undefined;
        if (next !== undefined) data['new_pid'] = next.pid;
      }
      this.#callback(entry, 'programme_ended', data);
    }
    this.#expireLater(entry);
  }

  /** next_stream_config (§6.5): the next programme at once, numbering continued; undefined when it could not start. */
  #autoTransition(entry: Entry, next: ProgrammeInput, startNumber: number): Promise<Entry | undefined> {
    return this.#lock.run(entry.id, async () => {
      // Someone else acted on the network meanwhile (a start, stop or DELETE): theirs wins.
      if (this.#entries.get(entry.id) !== entry || this.#closing) return undefined;
      try {
        const readrate = await this.#ffmpegReady();
        this.#forget(entry.id);
        if (entry.dvr || next.subtitles !== null) this.#continuity.forget(entry.id);
        else await this.#continuity.carryOver(entry.id, entry.dir, startNumber, true, next.listSize);
        await deleteUnlisted(entry.dir, this.#continuity.retained(entry.id));
        // The editor repeats callback_url in next_stream_config; without it the next programme reports where this one did.
        const programme = { ...next, callbackUrl: next.callbackUrl ?? entry.programme.callbackUrl };
        return await this.#launch(entry.id, programme, startNumber, true, readrate, { dir: entry.dir, dvr: entry.dvr, metadata: entry.metadata, next: null });
      } catch (error) {
        this.#o.logger.warn('broadcast next programme did not start', { network_id: entry.id, error: String(error) });
        return undefined;
      }
    });
  }

  /** Fire and forget: a slow or dead receiver costs only this promise (SPEC §14). */
  #callback(entry: Entry, event: string, data: Record<string, unknown>): void {
    const url = entry.programme.callbackUrl;
    if (url === null) return;
    const { payload, headers } = broadcastEvent({ id: entry.id, event, dvr: entry.dvr, dir: entry.dir, metadata: entry.metadata, data, apiToken: this.#o.apiToken });
    void sendCallback(url, payload, { timeoutMs: this.#o.callbackTimeoutMs, backoffMs: this.#o.callbackBackoffMs, headers }).then((result) => {
      if (!result.ok) this.#o.logger.warn('broadcast callback not delivered', { network_id: entry.id, event, reason: result.reason });
      else if (result.status >= 400) this.#o.logger.warn('broadcast callback refused', { network_id: entry.id, event, status: result.status });
    });
  }

  /** The playlist players get for FFmpeg's current `live.m3u8` text (B12: earlier programmes' tail kept). */
  servedPlaylist(id: string, text: string): string {
    return this.#continuity.served(id, text);
  }

  /** Our own stop of a process: no callback; resolves with the highest segment number on disk. */
  async #retire(entry: Entry): Promise<number> {
    entry.quiet = true;
    if (entry.child.running) {
      entry.status = 'stopping';
      await entry.child.stop(STOP_GRACE_MS);
    }
    entry.watch.stop();
    entry.status = 'stopped';
    return (await lastSegmentNumber(entry.dir)) ?? entry.startNumber;
  }

  #forget(id: string): void {
    this.#entries.delete(id);
    clearTimeout(this.#expiry.get(id));
    this.#expiry.delete(id);
  }

  /** B7: a finished entry is listed for a while, then forgotten (files stay until DELETE). DVR entries stay. */
  #expireLater(entry: Entry): void {
    if (entry.dvr || this.#entries.get(entry.id) !== entry) return;
    const timer = setTimeout(() => {
      if (this.#entries.get(entry.id) === entry && !entry.child.running) this.#forget(entry.id);
    }, this.#o.finishedTtlMs ?? FINISHED_TTL_MS);
    timer.unref();
    clearTimeout(this.#expiry.get(entry.id));
    this.#expiry.set(entry.id, timer);
  }

  #facts(e: Entry): BroadcastFacts {
    return {
      networkId: e.id, status: e.status, currentSegmentNumber: e.watch.lastSegment ?? e.startNumber, startedAt: e.startedAt,
      streamUrl: e.programme.streamUrl, dir: e.dir, pid: e.pid, errorMessage: e.errorMessage, bytesWritten: e.watch.bytesWritten,
      metadata: e.metadata,
    };
  }
}

function secondsSince(date: Date): number {
  return (Date.now() - date.getTime()) / 1000;
}
