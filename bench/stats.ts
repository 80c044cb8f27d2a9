/** Timing helpers: warm-up runs first, then the median of the measured runs. */

export interface Timing {
  /** Median of `samples`, in milliseconds. */
  median: number;
  samples: number[];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs `fn` `warmups` times untimed, then `runs` times timed; returns the median and every sample. */
export async function measure(fn: () => Promise<unknown>, options: { warmups: number; runs: number }): Promise<Timing> {
  for (let i = 0; i < options.warmups; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < options.runs; i++) {
    const started = performance.now();
    await fn();
    samples.push(performance.now() - started);
  }
  return { median: median(samples), samples };
}

/** Synchronous variant, for pure builders. */
export function measureSync(fn: () => unknown, options: { warmups: number; runs: number }): Timing {
  for (let i = 0; i < options.warmups; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < options.runs; i++) {
    const started = performance.now();
    fn();
    samples.push(performance.now() - started);
  }
  return { median: median(samples), samples };
}
