/**
 * Progress on a terminal (src/cli/progress.ts): when a signal stops pem mid-work, its line is
 * cleared and the cursor the spinner hid is shown again before pem says why, and the spinner
 * leaves signals to pem (its own handler would exit 130 or 143 before pem settles alerts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clearProgress, startProgress } from '../../src/cli/progress.js';
import type { CliContext } from '../../src/cli/context.js';

const SHOW_CURSOR = '\u001B[?25h';
const HIDE_CURSOR = '\u001B[?25l';

function terminalContext(written: string[], dumbTerminal = false): CliContext {
  const stderr = { write: (chunk: string) => (written.push(chunk), true), isTTY: true, columns: 100, cursorTo: () => true, moveCursor: () => true, clearLine: () => true };
  return { stderr, settings: { dumbTerminal } } as unknown as CliContext;
}

// The spinner draws (and hides the cursor) only on what it takes for an interactive terminal: a
// TTY, TERM not dumb, and no CI variable, which CI sets.
const saved = { CI: process.env.CI, TERM: process.env.TERM };
beforeEach(() => {
  delete process.env.CI;
  process.env.TERM = 'xterm-256color';
});
afterEach(() => {
  clearProgress();
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('clearProgress', () => {
  it('stops every spinner drawing and shows the cursor again', () => {
    const written: string[] = [];
    const listeners = { SIGINT: process.listenerCount('SIGINT'), SIGTERM: process.listenerCount('SIGTERM') };
    startProgress(terminalContext(written), 'replaying');
    expect(written.join('')).toContain(HIDE_CURSOR);
    // The spinner added no signal handler of its own.
    expect({ SIGINT: process.listenerCount('SIGINT'), SIGTERM: process.listenerCount('SIGTERM') }).toEqual(listeners);
    written.length = 0;
    clearProgress();
    expect(written.join('')).toContain(SHOW_CURSOR);
    // Nothing is drawn after it: a later write is not followed by the spinner's line again.
    written.length = 0;
    clearProgress();
    expect(written).toEqual([]);
  });

  it('is a no-op once the work cleared its own progress', () => {
    const written: string[] = [];
    const progress = startProgress(terminalContext(written), 'building');
    progress.done();
    written.length = 0;
    clearProgress();
    expect(written).toEqual([]);
  });
});

describe('startProgress', () => {
  it('draws nothing on a TERM=dumb terminal: it cannot redraw a line, so each step would stay as a line of its own', () => {
    const written: string[] = [];
    const progress = startProgress(terminalContext(written, true), 'checking');
    progress.step('checking: 1,000 of 10,000 processors done');
    progress.step('checking: 2,000 of 10,000 processors done');
    progress.done();
    expect(written).toEqual([]);
  });
});
