/**
 * Progress for long work (building the demo, a check over many processors), on stderr and only
 * while stderr is a terminal: piped or in Cloud Run, nothing is written, so logs and captured
 * output stay exactly as they were. Drawn by yocto-spinner (https://github.com/sindresorhus/yocto-spinner),
 * which also clears its line around anything else written to the terminal meanwhile.
 */
import yoctoSpinner from 'yocto-spinner';
import type { Writable } from 'node:stream';
import type { CliContext } from './context.js';

export interface Progress {
  /** Says what is being done now. */
  step(text: string): void;
  /** Clears the line: call it before writing the result. Safe to call twice. */
  done(): void;
}

const SILENT: Progress = { step: () => undefined, done: () => undefined };

/** The spinners drawing now, for `clearProgress`. */
const drawing = new Set<{ stop(): unknown; readonly isSpinning: boolean }>();

/**
 * Clears every progress line and shows the cursor again (the spinner hides it): before pem's own
 * line when a signal stops it (`cli/process.ts`), which the spinner would otherwise draw itself
 * under again, and leave the terminal without a cursor after the exit.
 */
export function clearProgress(): void {
  for (const spinner of drawing) if (spinner.isSpinning) spinner.stop();
  drawing.clear();
}

export function startProgress(context: CliContext, text: string): Progress {
  if (!context.stderr.isTTY || context.settings.dumbTerminal) return SILENT;
  // A terminal's stderr is process.stderr (a tty.WriteStream): what the spinner draws on. Signals
  // are pem's to handle (cli/process.ts: exit codes, alerts to settle), not the spinner's.
  const spinner = yoctoSpinner({ text, stream: context.stderr as unknown as Writable, handleSignals: false }).start();
  drawing.add(spinner);
  return {
    step(next) {
      spinner.text = next;
    },
    done() {
      if (spinner.isSpinning) spinner.stop();
      drawing.delete(spinner);
    },
  };
}

/** Runs `work` with progress shown, and clears it whatever happens. */
export async function withProgress<T>(context: CliContext, text: string, work: (progress: Progress) => Promise<T>): Promise<T> {
  const progress = startProgress(context, text);
  try {
    return await work(progress);
  } finally {
    progress.done();
  }
}
