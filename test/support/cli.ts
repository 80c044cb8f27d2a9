/** Runs the `pem` CLI in-process with captured output, a fixed environment and a fixed clock. */
import { main } from '../../src/cli/main.js';
import type { StopControl } from '../../src/cli/stop.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  env?: Record<string, string | undefined>;
  /** The clock `pem` reads (default: 2025-10-08T12:00:00Z). */
  now?: Date;
  /** stdout is a terminal. */
  tty?: boolean;
  /** That terminal's width in columns (with `tty`). */
  columns?: number;
  /** stderr is a terminal (what progress is drawn on): it gets the cursor methods of a tty.WriteStream, as no-ops. */
  stderrTty?: boolean;
  /** The stop request the command runs under (what SIGTERM requests in a process). */
  stop?: StopControl;
  /** Sees each chunk written to stderr as it is written. */
  onStderr?: (chunk: string) => void;
}

export async function runCli(args: string[], options: CliRunOptions = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: { write: (chunk: string) => (stdout += chunk), isTTY: options.tty ?? false, ...(options.columns ? { columns: options.columns } : {}) },
    stderr: options.stderrTty ? terminal((chunk) => (stderr += chunk)) : { write: (chunk: string) => ((stderr += chunk), options.onStderr?.(chunk), true) },
    env: options.env ?? {},
    now: () => options.now ?? new Date('2025-10-08T12:00:00Z'),
    ...(options.stop ? { stop: options.stop } : {}),
  });
  return { code, stdout, stderr };
}

/** A stream that says it is a terminal, with the cursor methods of a tty.WriteStream (no-ops here). */
function terminal(write: (chunk: string) => unknown) {
  const stream = { write, isTTY: true, columns: 100, cursorTo: () => true, moveCursor: () => true, clearLine: () => true };
  return stream;
}
