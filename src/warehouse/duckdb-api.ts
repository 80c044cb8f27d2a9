/**
 * `@duckdb/node-api`, loaded with `require`. It is CommonJS whose index re-exports ~100 files:
 * imported from ESM, Node first runs its CommonJS export lexer over each of them to learn the
 * named exports, ~150 ms of every `pem` start (bench/README.md, "Start-up"); `require` loads the
 * same module without that pass. Import the engine's API from here, not from the package.
 */
import { createRequire } from 'node:module';
import type * as DuckDbApi from '@duckdb/node-api';

const api = createRequire(import.meta.url)('@duckdb/node-api') as typeof DuckDbApi;

export type { DuckDBDataChunk, DuckDBType, DuckDBValue } from '@duckdb/node-api';
// The classes' and the enum's instance types, under their own names as the package has them.
export type DuckDBAppender = DuckDbApi.DuckDBAppender;
export type DuckDBConnection = DuckDbApi.DuckDBConnection;
export type DuckDBInstance = DuckDbApi.DuckDBInstance;
export type DuckDBPreparedStatement = DuckDbApi.DuckDBPreparedStatement;
export type DuckDBTypeId = DuckDbApi.DuckDBTypeId;
export const {
  BIGINT,
  DATE,
  DuckDBAppender,
  DuckDBConnection,
  DuckDBInstance,
  DuckDBTypeId,
  INTEGER,
  LIST,
  STRUCT,
  TIMESTAMP,
  VARCHAR,
  dateValue,
  listValue,
  structValue,
  timestampValue,
} = api;
