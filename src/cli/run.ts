// Standalone CLI entry for development and tests: runs one client command with this process's argv and exits with its code.
import { runClientCommand } from './index.ts';

runClientCommand(process.argv.slice(2), process.env, { stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`m3u-proxy: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
