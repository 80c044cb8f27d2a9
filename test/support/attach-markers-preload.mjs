/**
 * Preloaded into a child `pem` (NODE_OPTIONS=--import=…) by tests that must act at a moment the
 * child does not announce: writes the file named by ATTACHED_MARKER once DuckDB has attached a
 * database file (the child holds it), and adds a line to the one named by LOCK_WAIT_MARKER each
 * time DuckDB refuses an ATTACH for its lock (the child is waiting for the file). The statement
 * and its outcome are untouched. With KILL_ON_SQL set, the child kills itself (SIGKILL: no cleanup,
 * as a crash or an out-of-memory kill) when it is about to run or prepare a statement holding it.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { DuckDBConnection } from '@duckdb/node-api';

const { ATTACHED_MARKER: attachedMarker, LOCK_WAIT_MARKER: lockWaitMarker, KILL_ON_SQL: killOnSql } = process.env;
const dieAt = (sql) => {
  if (killOnSql && String(sql).includes(killOnSql)) process.kill(process.pid, 'SIGKILL');
};
const prepare = DuckDBConnection.prototype.prepare;
DuckDBConnection.prototype.prepare = async function (sql, ...rest) {
  dieAt(sql);
  return prepare.call(this, sql, ...rest);
};
const run = DuckDBConnection.prototype.run;
DuckDBConnection.prototype.run = async function (sql, ...rest) {
  dieAt(sql);
  const attach = String(sql).startsWith('ATTACH ');
  try {
    const result = await run.call(this, sql, ...rest);
    if (attach && attachedMarker) writeFileSync(attachedMarker, '');
    return result;
  } catch (error) {
    if (attach && lockWaitMarker && /could not set lock/i.test(String(error))) appendFileSync(lockWaitMarker, 'refused\n');
    throw error;
  }
};
