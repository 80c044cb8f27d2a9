/**
 * `pem` as a process (`bin/pem.js`): what only a real process has — closed pipes, library
 * warnings, SIGTERM — handled around `main`, which knows nothing of them.
 */
import { environmentOf, isCloudRun, secretValues } from '../config/env.js';
import { createLogger } from '../log.js';
import { main } from './main.js';
import { createStopControl, STOP_GRACE_MS, STOPPED_BY_SIGTERM } from './stop.js';

/** Runs `pem argv…` in this process and ends it with the command's exit code. */
export async function runPemProcess(argv: string[]): Promise<void> {
  // Its own lines as `main` writes its own: a JSON log entry in Cloud Run, plain text elsewhere.
  const env = environmentOf();
  const log = createLogger(process.stderr, { json: isCloudRun(env), redact: secretValues(env) });
  // SIGTERM's stop request, and whether `main` has returned (see below).
  const stop = createStopControl();
  let finished = false;

  // `pem check | head` closes stdout early: that is the reader's choice, not a failure to report.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      // Stopped by SIGTERM while the report was going out: the command still did not finish.
      if (error.code === 'EPIPE') process.exit(stop.signal.aborted && !finished ? 1 : (process.exitCode ?? 0));
      throw error;
    });
  }

  // Library warnings as one plain line each. google-auth's MetadataLookupWarning (no metadata
  // server off Google Cloud) only precedes the credentials error that pem reports itself.
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name === 'MetadataLookupWarning') return;
    log.warn(String(warning.message).split('\n')[0] ?? '');
  });

  // SIGTERM (a Cloud Run task's timeout or cancellation; `stop.ts` says why): at once, one line and
  // exit 1, unless alert delivery is running; then it settles (records what went out, gives back
  // the rest) and `main` prints why the command failed (exit 1), all within STOP_GRACE_MS.
  const stopNow = () => {
    // `main` has printed its line: only what it wrote may still be on its way out.
    if (finished) process.exit(typeof process.exitCode === 'number' ? process.exitCode : 1);
    log.error(`${STOPPED_BY_SIGTERM}; ${stop.settled ? 'alert delivery had finished' : 'alerts not yet delivered stay unsent'}`);
    process.exit(1);
  };
  // `on`, not `once`: a second SIGTERM (a supervisor that repeats it) must not kill the process by
  // the default action in the middle of settling; the first one's handling stands.
  process.on('SIGTERM', () => {
    if (stop.signal.aborted) return;
    if (stop.request(STOPPED_BY_SIGTERM)) setTimeout(stopNow, STOP_GRACE_MS).unref();
    else stopNow();
  });

  const code = await main(argv, { stop });
  finished = true;
  process.exitCode = code;
  if (!stop.signal.aborted) return;
  // Stopped: a send left unheeded (its request still open) must not hold the process to SIGKILL.
  // Exit once what was written to stdout and stderr has been handed over (or at the grace bound).
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}
