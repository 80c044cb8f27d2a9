/**
 * Noise control for the alert planner (SPEC §12): which processors' alerts are held, and into which
 * upstream's alert a held downstream folds. Pure; it reads what the detection SQL computed per
 * processor (threshold_problem_dates, problems_explained, blocked_by) and compares it with the
 * registry's numbers; it derives no status.
 *
 *   threshold   an ERROR with fewer than alert_after_dates problem dates among the
 *               alert_within_dates most recent expected, due dates (CRITICAL ignores thresholds)
 *   dependency  every problem date explained by an upstream (and, if stale, every date since the
 *               last success): the root upstream's alert lists it as "also affected"
 *
 * A dependency hold wins over a threshold: it says where the cause is. A CRITICAL downstream is held
 * only while a root upstream's alert pages (CRITICAL, not held itself): noise control never turns
 * a page into a Slack line, or into nothing.
 */
export type HoldReason = 'threshold' | 'dependency';

/** What noise control reads of a processor's report and details (report.ts builds both from the SQL's rows). */
export interface NoiseProcessor {
  name: string;
  level: 'CRITICAL' | 'ERROR' | 'OK';
  recovered_failure_dates: readonly string[];
  blocked_by: readonly { processor: string }[];
}

export interface NoiseDetail {
  threshold_problem_dates: number | null;
  alert_after_dates: number | null;
  problems_explained: boolean;
  alert_on_recovered_failures: boolean;
}

export interface NoiseDecision {
  held: Map<string, HoldReason>;
  /** Root upstream → the downstream processors its alert carries, sorted. */
  alsoAffected: Map<string, string[]>;
}

export function holdReason(p: NoiseProcessor, detail: NoiseDetail | undefined): HoldReason | null {
  if (p.level === 'OK' || !detail) return null;
  // Recovered failures the registry asked to hear about are this processor's own news; those it
  // did not ask about are no reason to send what an upstream explains.
  if (detail.problems_explained && (p.recovered_failure_dates.length === 0 || !detail.alert_on_recovered_failures)) return 'dependency';
  // No count (null): the statement's registry has no threshold for it (BigQuery's deployed one,
  // behind the runner's): nothing to hold the alert by, so it goes out (the check warns of the drift).
  if (p.level === 'ERROR' && detail.alert_after_dates !== null && detail.threshold_problem_dates !== null && detail.threshold_problem_dates < detail.alert_after_dates) {
    return 'threshold';
  }
  return null;
}

export function holdReasons(processors: readonly NoiseProcessor[], details: Readonly<Record<string, NoiseDetail>>): NoiseDecision {
  const held = new Map<string, HoldReason>();
  for (const p of processors) {
    const reason = holdReason(p, details[p.name]);
    if (reason) held.set(p.name, reason);
  }
  const byName = new Map(processors.map((p) => [p.name, p]));
  // Explanation is transitive: follow blocked_by upstream through processors that are themselves
  // held by a dependency (`through`), to the ones that are not (the `roots`). A root outside this
  // check folds nothing.
  const upstream = (name: string): { roots: string[]; through: string[] } => {
    const found = { roots: [] as string[], through: [] as string[] };
    const seen = new Set([name]);
    const walk = (from: string): void => {
      for (const b of byName.get(from)?.blocked_by ?? []) {
        if (seen.has(b.processor) || !byName.has(b.processor)) continue;
        seen.add(b.processor);
        if (held.get(b.processor) === 'dependency') {
          found.through.push(b.processor);
          walk(b.processor);
        } else found.roots.push(b.processor);
      }
    };
    walk(name);
    return found;
  };
  // A page is never lost to noise control: a CRITICAL downstream stays held only while a root's
  // alert pages for it (a CRITICAL root that is not held); behind roots that only reach Slack, or
  // whose own alerts are held by a threshold, it alerts on its own. Released ones become roots of
  // their own downstreams. Decided upstream first (the graph has no cycles): a CRITICAL downstream
  // waits while one it is held through is undecided, so what it is held behind never depends on
  // the processors' names.
  const pagingRoot = (root: string) => byName.get(root)?.level === 'CRITICAL' && !held.has(root);
  const undecided = new Set([...held].filter(([name, reason]) => reason === 'dependency' && byName.get(name)?.level === 'CRITICAL').map(([name]) => name));
  while (undecided.size > 0) {
    const ready = [...undecided].filter((name) => !upstream(name).through.some((u) => undecided.has(u)));
    // Never empty without a cycle; should one slip through, decide the rest as they are.
    for (const name of ready.length > 0 ? ready : [...undecided]) {
      undecided.delete(name);
      if (!upstream(name).roots.some(pagingRoot)) held.delete(name);
    }
  }
  const alsoAffected = new Map<string, Set<string>>();
  for (const [name, reason] of held) {
    if (reason !== 'dependency') continue;
    for (const root of upstream(name).roots) {
      let list = alsoAffected.get(root);
      if (!list) alsoAffected.set(root, (list = new Set()));
      list.add(name);
    }
  }
  return { held, alsoAffected: new Map([...alsoAffected].map(([root, names]) => [root, [...names].sort()])) };
}
