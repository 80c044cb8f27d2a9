// The Dataform side of the monitor, decided once for every definition: the registry (SPEC §3, with
// its defaults), the deployment's vars, and how a registry table name becomes a Dataform target.
// The SQL itself comes from includes/pem_sql.js, generated from sql/ by scripts/bundle-sql.mjs.
const pemSql = require('./pem_sql.js');

// What is wrong with the registry or the vars, said once by definitions/pem_problems.js. Thrown
// here, it would leave `pem` undefined in every definition: one real error among fifteen
// "pem is not defined", each with its stack. So the other definitions compile against a stand-in
// registry and the defaults, and the compilation still fails, on the one error that matters.
const problems = [];

function loadedRegistry() {
  const standIn = () => pemSql.loadRegistry({ dataset: 'pem_invalid_registry', processors: { pem_invalid_registry: {} } });
  let loaded;
  try {
    loaded = pemSql.loadRegistry(require('./processors.js'));
  } catch (error) {
    const said = error && error.message ? error.message : String(error);
    problems.push(error instanceof SyntaxError ? `includes/processors.js cannot be loaded: ${said}` : said);
    return standIn();
  }
  // The runner may read a dataset of another project (`project.dataset`), but Dataform deploys every
  // action into its own project (defaultDatabase): each would fail on the dot, one error apiece.
  if (loaded.dataset.includes('.')) {
    const [project, dataset] = loaded.dataset.split('.');
    problems.push(
      `invalid processor registry (includes/processors.js): dataset "${loaded.dataset}" names a project, and the Dataform project deploys into its own ` +
        `(defaultDatabase, --default-database): give "${dataset}" as the dataset and deploy the Dataform project (and the job: PROJECT_ID) in ${project}`,
    );
    return standIn();
  }
  return loaded;
}

const registry = loadedRegistry();
const vars = (dataform.projectConfig && dataform.projectConfig.vars) || {};

/** A whole-number var (Dataform vars are strings: `--vars=pem_health_lookback_days=14`); a bad one is a problem, and its default stands in. */
function wholeNumberVar(name, fallback, max) {
  const raw = vars[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    problems.push(`var ${name} must be a whole number from 1 to ${max}, for example --vars=${name}=${fallback} (got "${raw}")`);
    return fallback;
  }
  return value;
}

const runHistory = `${registry.dataset}.${pemSql.OBJECTS.runHistory}`;

/** `ds.t` or `proj.ds.t` → the Dataform target of that table (the run history, or a declared source). */
function targetOf(name) {
  const parts = name.split('.');
  const [database, schema, table] = parts.length === 3 ? parts : [undefined, parts[0], parts[1]];
  return database ? { database, schema, name: table } : { schema, name: table };
}

/** Resolves registry table names inside a definition's context, so Dataform records the dependency. */
function resolver(ctx) {
  return (name) => pemSql.unquote(ctx.ref(name === runHistory ? { schema: registry.dataset, name: pemSql.OBJECTS.runHistory } : targetOf(name)));
}

/** `'a', 'b'`: a SQL list of string literals (values from constants, never from users). */
function sqlList(values) {
  return values.map((v) => `'${String(v).replace(/'/g, "\\'")}'`).join(', ');
}

/** `{column: 'description'}` → the column descriptors that an operation's `.columns()` takes. */
function columnDescriptors(columns) {
  return Object.entries(columns).map(([name, description]) => ({ path: [name], description }));
}

module.exports = {
  /** What stops this compilation (definitions/pem_problems.js throws it), or an empty list. */
  problems,
  registry,
  dataset: registry.dataset,
  objects: pemSql.OBJECTS,
  tags: ['pem'],
  /** The window of the `processor_health` view (and what "latest state" looks back over). */
  healthLookbackDays: wholeNumberVar('pem_health_lookback_days', 7, 366),
  /** How many days of run-history partitions the assertions scan on each run. */
  assertionLookbackDays: wholeNumberVar('pem_assertion_lookback_days', 7, 3660),
  /** The window of the `processor_backfill_queue` view (default: the runner's, 30 days). */
  backfillLookbackDays: vars.pem_backfill_lookback_days ? wholeNumberVar('pem_backfill_lookback_days', 30, 366) : undefined,
  sources: pemSql.sourceTables(registry).map(targetOf),
  targetOf,
  resolver,
  sqlList,
  columnDescriptors,
};
