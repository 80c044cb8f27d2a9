/**
 * `pem` as a process (`bin/pem.js`): what only a real process has — closed pipes, library
 * warnings, SIGTERM and SIGINT — handled around `main`, which knows nothing of them.
 */
import { environmentOf, isCloudRun, secretValues } from '../config/env.js';
import { createLogger } from '../log.js';
import { main } from './main.js';
import { clearProgress } from './progress.js';
import { firstLine } from '../errors.js';
import { createStopControl, STOP_CLEANUP_MS, STOP_GRACE_MS, STOP_REASONS, type StopSignal } from './stop.js';

export interface PemProcessOptions {
  /**
   * Signals that arrived while the modules were loading (`bin/pem.js` holds them: loading takes up
   * to a second or more), handled as soon as pem's own handling is in place. Read once, when it is:
   * a signal held later reaches pem's own listeners too.
   */
  earlySignals?: readonly StopSignal[];
}

/** Runs `pem argv…` in this process and ends it with the command's exit code. */
export async function runPemProcess(argv: string[], options: PemProcessOptions = {}): Promise<void> {
  // Its own lines as `main` writes its own: a JSON log entry in Cloud Run, plain text elsewhere.
  const env = environmentOf();
  // Its own stream, kept apart from process.stderr: a stop mutes the command's output (below), not this.
  const stderrWrite = process.stderr.write.bind(process.stderr) as (text: string) => boolean;
  const log = createLogger({ write: (text: string) => stderrWrite(text) }, { json: isCloudRun(env), redact: secretValues(env) });
  // The stop request (SIGTERM, SIGINT), and whether `main` has returned (see below).
  const stop = createStopControl();
  let finished = false;
  // Only `pem check` delivers alerts (not with --dry-run): other stop lines do not speak of them.
  const deliversAlerts = argv[0] === 'check' && !argv.includes('--dry-run');

  // `pem check | head` closes stdout early: that is the reader's choice, not a failure to report;
  // the command goes on to its end (its alerts, its own run row, its heartbeat) with its exit code.
  // Any other failure to write stdout (a full disk, /dev/full) loses output the user asked for:
  // one line, and the command ends with exit 1 once the rest of its work is done.
  let outputLost: NodeJS.ErrnoException | null = null;
  // A command that succeeded (or found what --fail-on asks about) did not deliver its output: 1.
  const withOutputLost = (code: number | undefined): number => (code === 0 || code === 3 || code === undefined ? 1 : code);
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || outputLost) return;
    outputLost = error;
    log.error(`cannot write the output to stdout (${firstLine(error.message)}): it is incomplete`);
    // The last write's failure can be told after `main` has returned (the report is one write).
    if (finished) process.exitCode = withOutputLost(typeof process.exitCode === 'number' ? process.exitCode : undefined);
  });
  // Nothing is left to tell anyone about stderr itself.
  process.stderr.on('error', () => undefined);

  // Library warnings as one plain line each. google-auth's MetadataLookupWarning (no metadata
  // server off Google Cloud) only precedes the credentials error that pem reports itself.
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name === 'MetadataLookupWarning') return;
    log.warn(String(warning.message).split('\n')[0] ?? '');
  });

  // SIGTERM (a Cloud Run task's timeout or cancellation; `stop.ts` says why) and SIGINT (Ctrl-C):
  // at once, one line and exit 1, unless work that settles itself is running (alert delivery, a
  // run row being written); then it settles (records what went out, gives back the rest, spools
  // the row) and `main` says why the command failed, all within STOP_GRACE_MS.
  const stopNow = async (reason: string, cancelWaiting: boolean) => {
    // A progress line is cleared, and the cursor it hid shown again, before anything else is said.
    clearProgress();
    // `main` has printed its line: only what it wrote may still be on its way out.
    if (finished) process.exit(typeof process.exitCode === 'number' ? process.exitCode : 1);
    const alerts = deliversAlerts ? `; ${stop.settled ? 'alert delivery had finished' : 'alerts not yet delivered stay unsent'}` : '';
    // What pem started elsewhere and would leave running (a BigQuery job) is cancelled first, when
    // nothing was settling: after the grace, a statement still running is settling's own (the
    // record of what delivery sent), better finished without us than cancelled. The command goes on
    // meanwhile and would say its statement failed, which is only the cancellation: its output is
    // muted, and the stop line says what happened. Nothing to cancel: it ends at once, as before
    // (a signal held while the modules loaded ends the process before `main` starts).
    let cancelled = '';
    if (cancelWaiting && stop.cleansUp) {
      process.stdout.write = (() => true) as typeof process.stdout.write;
      process.stderr.write = (() => true) as typeof process.stderr.write;
      cancelled = await stop.cleanUp(STOP_CLEANUP_MS);
    }
    log.error(`${reason}${alerts}${cancelled}`);
    process.exit(1);
  };
  // `on`, not `once`: a second signal (a supervisor that repeats SIGTERM, a second Ctrl-C) must not
  // kill the process by the default action in the middle of settling; the first one's handling stands.
  const onSignal = (signal: StopSignal) => {
    if (stop.signal.aborted) return;
    const reason = STOP_REASONS[signal];
    if (stop.request(reason)) setTimeout(() => void stopNow(reason, false), STOP_GRACE_MS).unref();
    else void stopNow(reason, true);
  };
  for (const signal of Object.keys(STOP_REASONS) as StopSignal[]) process.on(signal, () => onSignal(signal));
  for (const signal of [...(options.earlySignals ?? [])]) onSignal(signal);

  const code = await main(argv, { stop });
  finished = true;
  process.exitCode = outputLost ? withOutputLost(code) : code;
  if (!stop.signal.aborted) return;
  // Stopped: a send left unheeded (its request still open) must not hold the process to SIGKILL.
  // Exit once what was written to stdout and stderr has been handed over (or at the grace bound).
  const exitCode = process.exitCode;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(exitCode)));
}
