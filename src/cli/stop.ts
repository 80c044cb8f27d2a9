/**
 * A stop request (SIGTERM, or SIGINT: Ctrl-C) while pem runs as a process.
 *
 * Cloud Run ends a task at its timeout, or on cancellation, with SIGTERM and SIGKILL 10 s later
 * (https://cloud.google.com/run/docs/container-contract#lifecycle). As a container's PID 1, node
 * has no default SIGTERM action and would sit out those 10 s. Most of a command has nothing to
 * settle, so it stops at once: one line, exit 1. Alert delivery does: its claims would hold every
 * alert it had not yet sent for the claim's lease (`src/alerts/state.ts`), and what it had sent
 * but not yet recorded would be sent again by the next run. So while delivery runs (`whileStoppable`)
 * the request reaches it as an aborted signal instead: it sends nothing more, records what went
 * out, gives back what did not (the next run sends it), and the command ends with exit 1; if that
 * takes longer than `STOP_GRACE_MS` the process ends anyway, as before.
 */

/** How long delivery may take to settle after SIGTERM; Cloud Run's SIGKILL comes at 10 s. */
export const STOP_GRACE_MS = 5_000;

/**
 * How long a stop waits for `atStop` cleanups (BigQuery cancelling a job takes one request) before
 * its line and exit; with STOP_GRACE_MS, still within Cloud Run's 10 s.
 */
export const STOP_CLEANUP_MS = 3_000;

export const STOPPED_BY_SIGTERM = 'stopped by SIGTERM (task timeout or cancellation) before the command finished';
/** Ctrl-C at a terminal is handled as SIGTERM: what went out is recorded, the rest given back. */
export const STOPPED_BY_SIGINT = 'stopped by SIGINT (Ctrl-C) before the command finished';

/** The stop request each signal pem handles makes. */
export const STOP_REASONS = { SIGTERM: STOPPED_BY_SIGTERM, SIGINT: STOPPED_BY_SIGINT } as const;
export type StopSignal = keyof typeof STOP_REASONS;

export interface StopControl {
  /** Aborted once a stop was requested; its reason says by what. */
  readonly signal: AbortSignal;
  /** Runs `work` as work that settles itself when `signal` aborts, instead of being cut short. */
  whileStoppable<T>(work: () => Promise<T>): Promise<T>;
  /** Asks everything to stop; true when stoppable work is running and will settle by itself. */
  request(reason: string): boolean;
  /** Stoppable work ran and settled, and none is running. */
  readonly settled: boolean;
  /**
   * Adds what to do before the process ends on a stop that found no stoppable work running: cancel
   * what pem started elsewhere and would leave running (a BigQuery job). `cleanup` resolves to the
   * end of the stop line (`; asked BigQuery to cancel its job …`), or ''; `unfinished` says what
   * is left to do by hand when the cleanup outlasts its bound (`; … cancel it with bq cancel`).
   */
  atStop(cleanup: () => Promise<string>, unfinished: () => string): void;
  /** Whether any `atStop` cleanup was added. */
  readonly cleansUp: boolean;
  /** Runs every `atStop` cleanup side by side, for at most `boundMs`; their texts joined. */
  cleanUp(boundMs: number): Promise<string>;
}

export function createStopControl(): StopControl {
  const controller = new AbortController();
  let settling = 0;
  let ran = false;
  const cleanups: { cleanup: () => Promise<string>; unfinished: () => string }[] = [];
  return {
    signal: controller.signal,
    async whileStoppable(work) {
      settling++;
      try {
        return await work();
      } finally {
        settling--;
        ran = true;
      }
    },
    request(reason) {
      if (!controller.signal.aborted) controller.abort(new Error(reason));
      return settling > 0;
    },
    get settled() {
      return ran && settling === 0;
    },
    atStop(cleanup, unfinished) {
      cleanups.push({ cleanup, unfinished });
    },
    get cleansUp() {
      return cleanups.length > 0;
    },
    async cleanUp(boundMs) {
      const texts = await Promise.all(
        cleanups.map(async ({ cleanup, unfinished }) => {
          // What is left when it outlasts the bound, known before it starts (the jobs it cancels).
          const left = unfinished();
          let timer: NodeJS.Timeout | undefined;
          const bound = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(left), boundMs)));
          try {
            // A cleanup that fails says what is left, as one that outlasts the bound does.
            return await Promise.race([cleanup().catch(() => left), bound]);
          } finally {
            clearTimeout(timer);
          }
        }),
      );
      return texts.join('');
    },
  };
}
