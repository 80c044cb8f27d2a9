/**
 * The JSON document of SPEC §7 as text, in pieces: byte for byte `JSON.stringify(report, null, 2)`,
 * but one processor at a time, so a 90-day check of 10,000 processors (over 100 MB of JSON) is
 * never one string in memory (SPEC §14). Pure.
 */
import type { CheckReport } from './report.js';

/** A stand-in for the processors array in the document's shell; no report value can equal it. */
const PROCESSORS_SLOT = '\u0000pem:processors\u0000';

/** What JSON.stringify({ p: [value] }, null, 2) puts before and after the value's lines. */
const NESTED_HEAD = '{\n  "p": [\n';
const NESTED_TAIL = '\n  ]\n}';

/** The document's text, in pieces whose concatenation equals `JSON.stringify(report, null, 2)`. */
export function* jsonDocumentPieces(report: CheckReport): Generator<string> {
  if (report.processors.length === 0) {
    yield JSON.stringify(report, null, 2);
    return;
  }
  // Everything but the processors, with the slot where they go: `"processors": "<slot>"`.
  const shell = JSON.stringify({ ...report, processors: PROCESSORS_SLOT }, null, 2);
  const [head, tail] = shell.split(JSON.stringify(PROCESSORS_SLOT)) as [string, string];
  yield `${head}[\n`;
  const last = report.processors.length - 1;
  for (let i = 0; i <= last; i++) {
    // Nested two levels deep (document → processors → processor), so each line is indented by 4
    // spaces: stringified at that depth inside a stand-in shell, whose own lines are cut off,
    // rather than re-indented line by line afterwards (a tenth of a 90-day check's JS time).
    const nested = JSON.stringify({ p: [report.processors[i]] }, null, 2);
    yield `${nested.slice(NESTED_HEAD.length, -NESTED_TAIL.length)}${i < last ? ',' : ''}\n`;
  }
  yield `  ]${tail}`;
}
