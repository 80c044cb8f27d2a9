// `pem gaps` as a view: the (processor, date) pairs to re-run, from sql/processor_backfill_queue.sql.hbs.
if (pem_sql.hasTemplate(pem.objects.backfillQueue)) {
  publish(pem.objects.backfillQueue, {
    type: 'view',
    schema: pem.dataset,
    tags: pem.tags,
    description: 'Backfill queue: every missing, failed or hung processing date of the enabled processors, and every success with low or high volume (SPEC §10), high priority first (pem gaps).',
  }).query((ctx) => {
    const healthDaily = pem_sql.unquote(ctx.ref(pem.objects.healthDaily));
    const dataset = healthDaily.slice(0, healthDaily.lastIndexOf('.'));
    return pem_sql.backfillQueueQuery(pem.registry, dataset, pem.backfillLookbackDays);
  });
}
