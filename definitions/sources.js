// Tables the registry's processors are read from (execution_table, calendar_table) that this
// project does not create: declared so that the detection's dependencies show in the graph.
// Generated from includes/processors.js; the default registry reads only the run history.
for (const target of pem.sources) {
  declare({ ...target, description: 'A table the Processor Execution Monitor reads (includes/processors.js).' });
}
