// Entry point: runs a CLI command against a server, or loads the config and runs the server; the only process.exit.
import './boot-memory.ts';
import { existsSync, readFileSync } from 'node:fs';
import { createApp, loadState } from './app.ts';
import { isClientCommand, programHelp, runClientCommand } from './cli/index.ts';
import { parseServerArgs } from './config.ts';
import { ConfigError, StateError } from './errors.ts';
import { tuneHeapForRelay } from './gc-tuning.ts';
import { startIdleGc } from './idle-gc.ts';
import { createLogger } from './log.ts';
import { connectCluster } from './services/cluster/link.ts';

/** SPEC §8: in-flight playlists and segments get this long after SIGTERM; webhooks and the state file then flush. */
const SHUTDOWN_GRACE_MS = 7_000;
/** SPEC §15: whatever is still in flight, the process is gone this long after the first signal. */
const SHUTDOWN_DEADLINE_MS = 9_500;

function readDotenv(): string | undefined {
  const path = '.env';
  if (!existsSync(path)) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    // One line and exit 2, as for any other setting that cannot be used (a .env of another user, a directory).
    throw new ConfigError(`cannot read .env (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

async function main(argv: string[]): Promise<number | undefined> {
  if (isClientCommand(argv)) {
    // Output into a pipe whose reader left (`m3u-proxy monitor | head -1`): the command is done, not failed.
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      process.stderr.write(`m3u-proxy: ${err.message}\n`);
      process.exit(1);
    });
    return runClientCommand(argv, process.env, { stdout: process.stdout, stderr: process.stderr });
  }
  let start;
  try {
    start = parseServerArgs(argv, process.env, readDotenv());
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`m3u-proxy: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (start.kind === 'help') {
    process.stdout.write(programHelp(start.text));
    return 0;
  }
  if (start.kind !== 'run') {
    process.stdout.write(start.text.endsWith('\n') ? start.text : start.text + '\n');
    return 0;
  }
  const { config } = start;
  // The server only (not CLI commands): many players' in-flight chunks otherwise cost back-to-back full GCs (gc-tuning.ts).
  tuneHeapForRelay();
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  // The garbage a finished load leaves behind is collected once the server is idle (idle-gc.ts).
  startIdleGc((freed) => logger.debug('idle GC', { freed_bytes: freed }));
  // SPEC §8: nothing unexpected may take the process down; log it once and keep serving.
  process.on('unhandledRejection', (reason) => logger.error('unhandled rejection', { error: describe(reason) }));
  process.on('uncaughtException', (err) => logger.error('uncaught exception', { error: describe(err) }));

  let app;
  try {
    // SPEC §12: a state file that cannot be read, parsed or written stops start-up here, with one line and exit 2.
    const state = await loadState(config);
    // SPEC §16: cluster mode waits for Redis and takes the URL secret every node shares.
    const cluster = config.cluster === undefined ? undefined : await connectCluster(config.cluster, config.urlSecretRandom ? undefined : config.urlSecret(), logger);
    const nodeConfig = cluster === undefined ? config : Object.freeze({ ...config, urlSecret: () => cluster.urlSecret, urlSecretRandom: false });
    app = createApp(nodeConfig, { logger, state, cluster });
    const port = await app.listen(config.port, config.host);
    logger.info('m3u-proxy listening', { host: config.host, port, root_path: config.rootPath || undefined, state: app.state?.where ?? 'memory only' });
    if (app.config.urlSecretRandom) logger.info('URL_SECRET not set and no state file: playback URLs will not survive a restart');
  } catch (err) {
    if (err instanceof StateError) {
      process.stderr.write(`m3u-proxy: ${err.message}\n`);
      return 2;
    }
    if (app === undefined) throw err; // not a listen failure: a bug, reported with its stack by the caller
    // A busy or forbidden port is an operator's mistake, not a bug: one line that says what to change, no stack.
    process.stderr.write(`m3u-proxy: cannot listen on ${config.host}:${config.port}: ${listenFailure(err)}\n`);
    await app.close(0);
    return 1;
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info('shutting down', { signal });
    setTimeout(() => {
      logger.warn('shutdown took too long: exiting now', { signal, deadline_ms: SHUTDOWN_DEADLINE_MS });
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    app.close(SHUTDOWN_GRACE_MS).then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error('shutdown failed', { error: describe(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return undefined;
}

/** The reason a listen() failed, in words, for the one line on stderr. */
function listenFailure(err: unknown): string {
  const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
  switch (code) {
    case 'EADDRINUSE':
      return 'the port is already in use (EADDRINUSE); stop the other process or choose another --port';
    case 'EACCES':
      return 'permission denied (EACCES); ports below 1024 need privileges, choose another --port';
    case 'EADDRNOTAVAIL':
      return 'the address is not available on this machine (EADDRNOTAVAIL); check --host';
    default:
      return err instanceof Error ? err.message.split('\n')[0] ?? String(err) : String(err);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`m3u-proxy: ${describe(err)}\n`);
    process.exit(1);
  },
);
