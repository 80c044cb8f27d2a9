/** Noise control's holds as a pure function (src/check/noise.ts): what does not depend on names or order. */
import { describe, expect, it } from 'vitest';
import { holdReasons, type NoiseDetail, type NoiseProcessor } from '../../src/check/noise.js';

const processor = (name: string, level: NoiseProcessor['level'], upstream: string | null): NoiseProcessor => ({
  name,
  level,
  recovered_failure_dates: [],
  blocked_by: upstream ? [{ processor: upstream }] : [],
});
const detail = (explained: boolean): NoiseDetail => ({ threshold_problem_dates: null, alert_after_dates: null, problems_explained: explained, alert_on_recovered_failures: false });

describe('a chain of CRITICAL downstreams behind an ERROR root', () => {
  // a (ERROR, its alert reaches Slack only) -> b (CRITICAL) -> c (CRITICAL): b pages for itself, and for c.
  const chain = [processor('a', 'ERROR', null), processor('b', 'CRITICAL', 'a'), processor('c', 'CRITICAL', 'b')];
  const details = { a: detail(false), b: detail(true), c: detail(true) };

  it.each([
    ['upstream first', chain],
    ['downstream first', [...chain].reverse()],
  ])('holds the same ones whatever the order (%s)', (_order, processors) => {
    const decision = holdReasons(processors, details);
    expect([...decision.held]).toEqual([['c', 'dependency']]);
    expect([...decision.alsoAffected]).toEqual([['b', ['c']]]);
  });

  it('holds the same ones when the names sort the other way (z -> y -> x)', () => {
    const decision = holdReasons([processor('x', 'CRITICAL', 'y'), processor('y', 'CRITICAL', 'z'), processor('z', 'ERROR', null)], { x: detail(true), y: detail(true), z: detail(false) });
    expect([...decision.held]).toEqual([['x', 'dependency']]);
    expect([...decision.alsoAffected]).toEqual([['y', ['x']]]);
  });

  it('holds both behind a CRITICAL root, which lists them', () => {
    const decision = holdReasons([processor('a', 'CRITICAL', null), ...chain.slice(1)], details);
    expect(new Map(decision.held)).toEqual(new Map([['b', 'dependency'], ['c', 'dependency']]));
    expect([...decision.alsoAffected]).toEqual([['a', ['b', 'c']]]);
  });
});
