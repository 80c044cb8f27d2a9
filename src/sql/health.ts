/**
 * Builds the render context of the detection query from the registry (pure: the runner renders
 * it with `sql/statements.ts`, Dataform with `dataform/project.ts`). The registry decides the
 * shape of the SQL (which tables, which columns, which filters); every runtime value (E, L, now,
 * the processor list) stays a bound parameter.
 */
import {
  AUTO_RUNTIME_FALLBACK_MINUTES,
  AUTO_RUNTIME_FLOOR_MINUTES,
  defaultProcessorFilter,
  type ProcessorConfig,
  type Registry,
} from '../config/registry.js';
import { IANAZone } from 'luxon';
import type { TemplateBundle } from './render.js';
import { runHistoryTable } from '../config/names.js';

/** One branch of the `run_rows` union: a table layout shared by one or more processors. */
export interface RunSource {
  table: string;
  date_field: string;
  status_field: string;
  run_id_field: string | null;
  started_at_field: string | null;
  completed_at_field: string | null;
  /** The records column (SPEC §10), or null: the table has none. */
  records_field: string | null;
  /** The table is the contract run history, so it has the `errors` column. */
  has_errors: boolean;
  /** Processors with the default filter share a branch keyed by the table's processor_name. */
  shared: boolean;
  /**
   * The other branches: every processor that selects its rows with its own filter from this table
   * layout, read in one scan (each row takes the name of every member whose filter it passes).
   */
  filtered: FilteredMember[] | null;
  /**
   * The members' filters, OR'd, also bound the scan: DuckDB then pushes them into it, as a lone
   * filter's branch did (one filtered processor among 1,000 at 90 days: 400 → 334 MB). Only for a
   * few members: each row would test them all (1,000 of them: 3.3 → 6.0 s).
   */
  prefilter: boolean;
  /** Shared branches only: the processor names it may claim, or those it must leave alone. */
  only: string[] | null;
  except: string[] | null;
}

/** Where and how a table holds a processor's runs: processors alike in all of it can share a scan. */
type RunLayout = Pick<RunSource, 'table' | 'date_field' | 'status_field' | 'run_id_field' | 'started_at_field' | 'completed_at_field' | 'records_field' | 'has_errors'>;

/** A processor and the filter that selects its rows (`filtered_names`); null: every row. */
export interface FilteredMember {
  processor: string;
  filter: string | null;
}

/** A calendar table and date column, read in one scan for every calendar processor on it (`members`, each with its calendar_filter). */
export interface CalendarSource {
  table: string;
  date_field: string;
  members: FilteredMember[];
}

export interface HealthRenderOptions {
  /** Filter to the `processors` parameter (the runner); off for the Dataform table function. */
  selectProcessors: boolean;
  /** Write parameters as `<prefix><name>` (table-function arguments) instead of bound `$`/`@` parameters. */
  paramPrefix?: string | null;
  orderRows?: boolean;
  /** Read the processor config from this table (Dataform's `processor_config`) instead of inlining the registry. */
  configTable?: string | null;
  /** Read every run, not only those dated on or before E (the runs view, which has no E). */
  wholeHistory?: boolean;
  /**
   * Take the last success before the scanned range from this table (Dataform's
   * `processor_last_success`) instead of searching older history: the deployed table function,
   * whose scans must all have constant date bounds (SPEC §14).
   */
  lastSuccessTable?: string | null;
  /**
   * DuckDB: take the registry from the bound `processor_config` parameter (`processorConfigParams`)
   * instead of a string literal in the statement. Tokenizing a 0.8 MB literal cost 17 ms at 1,000
   * processors and 165 ms at 10,000; binding it 4.5 / 36 ms (issue 13).
   */
  configParam?: boolean;
  /**
   * Read the run history and calendars of these processors only (default: every processor's). A
   * check reads those it evaluates (`withUpstreams`), so the table of a disabled processor, or of
   * one `--processors` leaves out, is never named: retiring one processor's table must not fail the
   * check of the others (SPEC §3: disabled processors are not checked).
   */
  readsOf?: ReadonlySet<string> | null;
}

/** Up to how many filtered processors on one table their filters also bound its scan (`RunSource.prefilter`). */
const PREFILTER_MAX_MEMBERS = 16;

export function runSources(registry: Registry): RunSource[] {
  const contractTable = runHistoryTable(registry);
  // One scan per table layout, however many processors read it (10,000 processors, one branch):
  // those with the default filter in one, keyed by processor_name; those with their own filter in
  // another (a branch, a scan, each made DuckDB hold a scan's buffers per processor, three times
  // over, and 50 of them ran out of 256 MB).
  const groups = new Map<string, { layout: RunLayout; shared: boolean; members: ProcessorConfig[] }>();
  for (const p of registry.processors) {
    const layout: RunLayout = {
      table: p.execution_table,
      date_field: p.date_field,
      status_field: p.status_field,
      run_id_field: p.run_id_field,
      started_at_field: p.started_at_field,
      completed_at_field: p.completed_at_field,
      records_field: p.records_field,
      has_errors: p.execution_table === contractTable,
    };
    const shared = p.processor_filter === defaultProcessorFilter(p.name);
    const key = JSON.stringify([shared, layout]);
    const group = groups.get(key) ?? { layout, shared, members: [] };
    groups.set(key, group);
    group.members.push(p);
  }
  // A shared branch keys rows by their processor_name column, so it must not also claim the rows
  // of processors that select theirs with their own filter or read another table: name its
  // members, or the others, whichever list is shorter (usually a handful of custom filters).
  const everyone = registry.processors.map((p) => p.name);
  const sources = (shared: boolean) => [...groups.values()].filter((group) => group.shared === shared);
  const sharedSources = sources(true).map(({ layout, members }): RunSource => {
    const source: RunSource = { ...layout, shared: true, filtered: null, prefilter: false, only: null, except: null };
    const names = members.map((p) => p.name);
    const memberSet = new Set(names);
    const others = everyone.filter((name) => !memberSet.has(name));
    if (others.length === 0) return source;
    return names.length <= others.length ? { ...source, only: names } : { ...source, except: others };
  });
  const filteredSources = sources(false).map(({ layout, members }): RunSource => ({
    ...layout,
    shared: false,
    filtered: members.map((p) => ({ processor: p.name, filter: p.processor_filter })),
    prefilter: members.length <= PREFILTER_MAX_MEMBERS,
    only: null,
    except: null,
  }));
  return [...sharedSources, ...filteredSources];
}

export function calendarSources(processors: readonly ProcessorConfig[]): CalendarSource[] {
  // One scan per calendar table and date column, however many processors read it (a scan each ran out of memory).
  const sources = new Map<string, CalendarSource>();
  for (const p of processors) {
    if (p.expected_frequency !== 'calendar' || !p.calendar_table || !p.calendar_date_field) continue;
    const key = JSON.stringify([p.calendar_table, p.calendar_date_field]);
    let source = sources.get(key);
    if (!source) sources.set(key, (source = { table: p.calendar_table, date_field: p.calendar_date_field, members: [] }));
    source.members.push({ processor: p.name, filter: p.calendar_filter });
  }
  return [...sources.values()];
}

/** A processor as a `processor_config` row: `max_runtime_minutes: "auto"` is NULL there (SPEC §10). */
export type ProcessorConfigRow = Omit<ProcessorConfig, 'max_runtime_minutes'> & { max_runtime_minutes: number | null };

export function processorConfigRows(processors: readonly ProcessorConfig[]): ProcessorConfigRow[] {
  return processors.map((p) => ({ ...p, max_runtime_minutes: configRuntime(p) }));
}

/** How far before the window any processor's baseline reaches: the run history is read from there on. */
export function maxBaselineDays(processors: readonly ProcessorConfig[]): number {
  return processors.reduce((max, p) => Math.max(max, p.baseline_days), 0);
}

/**
 * The registry as one JSON array of `processor_config` rows (keys: the `config_columns` partial),
 * for DuckDB's `config_relation`: one string literal parses and casts in milliseconds, where a
 * VALUES row of literals per processor (27 columns then, 40 now) cost ~0.16 s to plan per 1,000 processors (bench/README.md).
 */
export function processorConfigJson(processors: readonly ProcessorConfig[], templates: TemplateBundle): string {
  const columns = configColumns(templates);
  const rows = processors.map((p) => {
    // A plain loop, not Object.fromEntries over pairs: the check binds this for every slice, and
    // building 10,000 rows of 40 keys from pairs took 95 ms against 65 ms so (issue 13).
    const row: Record<string, unknown> = {};
    for (const column of columns) {
      const value = column === 'processor_name' ? p.name : column === 'max_runtime_minutes' ? configRuntime(p) : (p as unknown as Record<string, unknown>)[column];
      if (value === undefined) throw new Error(`processor_config column ${column} is not a registry key`);
      row[column] = value;
    }
    return row;
  });
  return JSON.stringify(rows);
}

/** `max_runtime_minutes` as a `processor_config` row holds it (processorConfigRows). */
export function configRuntime(p: ProcessorConfig): number | null {
  return p.max_runtime_minutes === 'auto' ? null : p.max_runtime_minutes;
}

/** The `config_columns` partial's column names, split once per template bundle. */
const configColumnsByBundle = new WeakMap<TemplateBundle, readonly string[]>();
function configColumns(templates: TemplateBundle): readonly string[] {
  let columns = configColumnsByBundle.get(templates);
  if (!columns) configColumnsByBundle.set(templates, (columns = templates.partials['config_columns']!.split(',').map((c) => c.trim())));
  return columns;
}

/** An edge of the dependency graph, as the `dependency_edges` CTE lists it. */
export interface DependencyEdge {
  processor: string;
  upstream: string;
  offset_days: number;
}

export function dependencyEdges(processors: readonly ProcessorConfig[]): DependencyEdge[] {
  return processors.flatMap((p) => p.depends_on.map((d) => ({ processor: p.name, upstream: d.processor, offset_days: d.offset_days })));
}

/**
 * How far before W a stale downstream's dates since its last success are still explained by its
 * upstreams (SPEC §12): four weeks, the span a baseline reads too (SPEC §10). A streak that began
 * earlier is no longer folded into its upstream's alert: it pages on its own.
 */
export const DEPENDENCY_HISTORY_DAYS = 28;

/** UTC offsets (hours) of a zone, sampled twice a month over a year: its standard and summer offsets. */
const OFFSET_SAMPLES = Array.from({ length: 24 }, (_, i) => Date.UTC(2025, Math.floor(i / 2), i % 2 === 0 ? 1 : 15));
const offsetRanges = new Map<string, { min: number; max: number }>();
function offsetRange(timezone: string): { min: number; max: number } {
  let range = offsetRanges.get(timezone);
  if (!range) {
    const zone = IANAZone.create(timezone);
    const hours = OFFSET_SAMPLES.map((ts) => zone.offset(ts) / 60);
    offsetRanges.set(timezone, (range = { min: Math.min(...hours), max: Math.max(...hours) }));
  }
  return range;
}

/**
 * How many of the latest dates up to E may not be due yet at a check dated today: E in the
 * registry's time zone, `now` on or after its midnight there. A date D is due at D + 1's midnight
 * in the processor's zone plus grace_hours. So E is never due, and E − j (j ≥ 1) is not due yet
 * while the hours from the processor's midnight of E − j + 1 to the registry's midnight of E are
 * fewer than grace_hours: that span is j − 1 days, less the hours the processor's zone is behind
 * the registry's, less an hour or two when it holds the processor's spring-forward day. Hence
 * 1 + ⌈(grace_hours + behind + DST shift) / 24⌉ dates, and E alone when the processor's midnight of
 * E has passed with no grace (grace 6, one zone: E and E − 1; grace 23.5: E to E − 2; grace 0,
 * a Los Angeles processor of a Tokyo registry: E and E − 1).
 */
function notDueDays(p: ProcessorConfig, registryTimezone: string): number {
  const processor = offsetRange(p.timezone);
  // In another zone, the most it can be behind at any time of the year (bounded from both zones' offsets).
  const behind = p.timezone === registryTimezone ? 0 : Math.max(0, offsetRange(registryTimezone).max - processor.min);
  const late = p.grace_hours + behind;
  return late === 0 ? 1 : 1 + Math.ceil((late + (processor.max - processor.min)) / 24);
}

/**
 * How many days back from E (E included) a threshold's M most recent expected, due dates can lie
 * (SPEC §12), from the processor's frequency; null where the frequency gives no bound (calendar
 * dates: as far as the calendar's gaps). At most notDueDays of the latest dates are not due yet,
 * so R days reach M due dates once any R consecutive days hold M + that many expected ones: a
 * daily processor needs M + those days, one expected on k weekdays 7·⌈(M + those days) / k⌉.
 * (A check dated after its `now` has more dates not due; its threshold then counts fewer.)
 */
export function thresholdReachDays(p: ProcessorConfig, registryTimezone: string): number | null {
  if (p.alert_within_dates === null) return 0;
  const dates = p.alert_within_dates + notDueDays(p, registryTimezone);
  switch (p.expected_frequency) {
    case 'daily':
      return dates;
    case 'weekdays':
      return 7 * Math.ceil(dates / 5);
    case 'weekly':
      // Distinct days: the registry accepts a day listed twice.
      return 7 * Math.ceil(dates / Math.max(1, new Set(p.expected_weekdays).size));
    case 'calendar':
      return null;
    case 'none':
      return 0;
  }
}

/**
 * Days before W the processors with thresholds or dependencies are also evaluated over, as two
 * render-time constants, so that every run-history scan keeps a constant date range (SPEC §14)
 * that is no wider than the check needs at its window length L (a bound parameter):
 *   fixedDays  before W whatever L: a dependency's DEPENDENCY_HISTORY_DAYS plus the largest
 *              offset, and 7·M for a calendar processor's threshold (M weeks; its gaps are unknown);
 *   reachDays  back from E (thresholdReachDays): before W only where it reaches past W, so a
 *              daily processor's threshold over M ≤ L − 1 dates (no grace) reads nothing before W.
 * The days before W are max(fixedDays, reachDays − L) (fixedDays ≥ 0): `daysBeforeWindow`, and in
 * SQL the `days_before_window` helper.
 */
export interface HistoryExtent {
  fixedDays: number;
  reachDays: number;
}

export function historyExtent(processors: readonly ProcessorConfig[], registryTimezone: string): HistoryExtent {
  const edges = dependencyEdges(processors);
  let fixedDays = edges.length === 0 ? 0 : DEPENDENCY_HISTORY_DAYS + Math.max(...edges.map((e) => -e.offset_days));
  let reachDays = 0;
  for (const p of processors) {
    const reach = thresholdReachDays(p, registryTimezone);
    if (reach === null) fixedDays = Math.max(fixedDays, 7 * p.alert_within_dates!);
    else reachDays = Math.max(reachDays, reach);
  }
  return { fixedDays, reachDays };
}

/** Whether some processor is evaluated before W at some window length (thresholds, dependencies). */
const extendsBeforeWindow = ({ fixedDays, reachDays }: HistoryExtent): boolean => fixedDays > 0 || reachDays > 0;

export function extendsHistory(registry: Registry): boolean {
  return extendsBeforeWindow(historyExtent(registry.processors, registry.timezone));
}

/** Days before W of an extent in a check of `lookbackDays` days (what the `days_before_window` helper writes in SQL). */
export function daysBeforeWindow({ fixedDays, reachDays }: HistoryExtent, lookbackDays: number): number {
  return Math.max(fixedDays, reachDays - lookbackDays);
}

/** The days before W the extended processors are evaluated over in a check of `lookbackDays` days. */
export function historyDaysFor(registry: Registry, lookbackDays: number): number {
  return daysBeforeWindow(historyExtent(registry.processors, registry.timezone), lookbackDays);
}

/** The context of the detection templates; `templates` are those it will be rendered with. */
export function healthContext(registry: Registry, options: HealthRenderOptions, templates: TemplateBundle): Record<string, unknown> {
  const baselineDays = maxBaselineDays(registry.processors);
  const extent = historyExtent(registry.processors, registry.timezone);
  const { fixedDays, reachDays } = extent;
  const extended = extendsBeforeWindow(extent);
  // The extended processors' runs are read over their history days and, before the oldest of
  // those dates, its own baseline_days, so every evaluated date's baseline (SPEC §10) is whole: a
  // date a threshold counts can be anomalous, and an anomaly judged on a truncated baseline would
  // differ from the same date judged in W.
  const scanFixedDays = extended ? fixedDays + baselineDays : baselineDays;
  const scanReachDays = extended && reachDays > 0 ? reachDays + baselineDays : 0;
  const readsOf = options.readsOf;
  const readers = readsOf ? registry.processors.filter((p) => readsOf.has(p.name)) : registry.processors;
  return {
    processors: processorConfigRows(registry.processors),
    max_baseline_days: baselineDays,
    auto_runtime_floor_minutes: AUTO_RUNTIME_FLOOR_MINUTES,
    auto_runtime_fallback_minutes: AUTO_RUNTIME_FALLBACK_MINUTES,
    dependency_edges: dependencyEdges(registry.processors),
    // Some processor is evaluated before W (thresholds, dependencies: SPEC §12); then, through the
    // days_before_window helper, for max(history_fixed_days, history_reach_days − L) days.
    extends_history: extended,
    // How far before W a stale downstream's streak is still explained (stale_explanation).
    dependency_history_days: DEPENDENCY_HISTORY_DAYS,
    history_fixed_days: fixedDays,
    history_reach_days: reachDays,
    // The same for the extended processors' run-history scan (their baseline days further), which
    // is also how far before W any run-history or calendar scan reaches: the constant lower bound
    // of the deployed scans (SPEC §14).
    history_scan_fixed_days: scanFixedDays,
    history_scan_reach_days: scanReachDays,
    processor_config_json: options.configParam ? null : processorConfigJson(registry.processors, templates),
    config_param: options.configParam ?? false,
    run_sources: runSources({ ...registry, processors: readers }),
    calendar_sources: calendarSources(readers),
    select_processors: options.selectProcessors,
    param_prefix: options.paramPrefix ?? null,
    order_rows: options.orderRows ?? true,
    config_table: options.configTable ?? null,
    last_success_table: options.lastSuccessTable ?? null,
    whole_history: options.wholeHistory ?? false,
  };
}
