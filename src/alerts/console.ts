/**
 * Console destination: the INFO note of a healthy run (SPEC §5), written through the CLI's logger
 * to stderr (stdout belongs to the report or the JSON document). It cannot fail.
 */
import type { Logger } from '../log.js';
import type { CheckReport } from '../check/report.js';
import type { Transport } from './transport.js';

export function createConsoleTransport(log: Logger): Transport<string> {
  return {
    destination: 'console',
    async send(message) {
      log.info(message);
    },
  };
}

/** The INFO line: what a person reading the job's log wants to see when nothing is wrong. */
export function buildConsoleMessage(report: CheckReport): string {
  const n = report.processors.length;
  if (n === 0) return `INFO: no processors to check for ${report.window_start}..${report.window_end}`;
  return `INFO: ${n === 1 ? '1 processor' : `all ${n} processors`} healthy for ${report.window_start}..${report.window_end}`;
}
