/**
 * The backfill queue as SQL (`sql/processor_backfill_queue.sql.hbs`): the same rows, in the same
 * order, as `pem gaps`, for the warehouse.
 *
 * - BigQuery: the body of the view `<dataset>.processor_backfill_queue`, reading the deployed
 *   table function `<dataset>.processor_health_daily(CURRENT_DATE(<registry time zone>), <L>)`,
 *   which holds the enabled processors (`pem gaps`'s default selection).
 * - DuckDB (no deployed table function): the same SELECT over the detection query itself, with
 *   `$end_date`, `$lookback_days`, `$now` and `$processors` bound as for `pem check`.
 */
import type { Registry } from '../config/registry.js';
import { healthContext } from '../sql/health.js';
import type { SqlRenderer } from '../sql/render.js';

/** The view's window: a month of dates, enough to cover a long weekend of outages and more. */
export const BACKFILL_QUEUE_LOOKBACK_DAYS = 30;

/** `renderer` is given, not loaded: Dataform renders the view from templates it cannot read from disk. */
export function renderBackfillQueueSql(renderer: SqlRenderer, registry: Registry, lookbackDays: number = BACKFILL_QUEUE_LOOKBACK_DAYS): string {
  // Where the rows come from is the dialect's `backfill_source` partial.
  return renderer.render('processor_backfill_queue', {
    ...healthContext(registry, { selectProcessors: true, orderRows: false }, renderer.templates),
    dataset: registry.dataset,
    timezone: registry.timezone,
    lookback_days: lookbackDays,
  });
}
