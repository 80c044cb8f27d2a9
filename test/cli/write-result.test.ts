/**
 * `writeCheckResult` (src/cli/selection.ts) writes the JSON document and the CSV in batches, waiting
 * for stdout to drain: a 10,000 × 90-day check is over 100 MB of JSON and 55 MB of CSV, never held
 * whole. Against a real stream with a small buffer and a slow reader, the text is exactly the
 * document (`JSON.stringify(report, null, 2)`) and the CSV's lines, in several writes.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../src/cli/context.js';
import { writeCheckResult } from '../../src/cli/selection.js';
import { syntheticResult } from '../report/fixtures.js';

/** A stdout whose reader takes a moment per chunk, and says so (write returns false) past 64 KiB. */
function slowStdout() {
  const chunks: string[] = [];
  const stream = new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      setTimeout(done, 2);
    },
  });
  return { stream, chunks };
}

const finished = (stream: Writable) => new Promise<void>((resolve) => stream.end(resolve));

describe('writeCheckResult', () => {
  const result = syntheticResult(300, 90);

  it('writes the JSON document whole, in several batches', async () => {
    const { stream, chunks } = slowStdout();
    await writeCheckResult(result, { stdout: stream } as unknown as CliContext, 'json', 'UTC');
    await finished(stream);
    expect(chunks.join('')).toBe(`${JSON.stringify(result.report, null, 2)}\n`);
    expect(chunks.length).toBeGreaterThan(3);
  });

  it('writes the CSV whole, one line per processor and date, in several batches', async () => {
    const { stream, chunks } = slowStdout();
    await writeCheckResult(result, { stdout: stream } as unknown as CliContext, 'csv', 'UTC');
    await finished(stream);
    const lines = chunks.join('').split('\n');
    expect(lines[0]).toBe('processor_name,date,status,runs,failed_runs,anomalies,records,duration_seconds,processor_level,priority,revenue_impact');
    expect(lines.at(-1)).toBe('');
    expect(lines).toHaveLength(1 + 300 * 90 + 1);
    const first = result.report.processors[0]!;
    const day = first.days[0]!;
    expect(lines[1]).toBe(
      [first.name, day.date, day.status, day.runs, day.failed_runs, day.anomalies.join(' '), day.records ?? '', day.duration_seconds ?? '', first.level, first.priority, first.revenue_impact].join(','),
    );
    expect(lines[90 * 299 + 1]!.startsWith(`${result.report.processors[299]!.name},${result.report.processors[299]!.days[0]!.date},`)).toBe(true);
    expect(chunks.length).toBeGreaterThan(1);
  });
});
