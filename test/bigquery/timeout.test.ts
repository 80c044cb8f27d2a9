/**
 * A BigQuery endpoint that accepts the connection and never answers must not hang the job: the
 * client's own `timeout` option has no effect, so the adapter bounds every statement itself.
 */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

let server: Server;
let url: string;
const sockets = new Set<Socket>();
let requests = 0;

beforeAll(async () => {
  // Reads each request and never answers it.
  server = createServer(() => void requests++);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  url = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('pem check --engine bigquery against an endpoint that never answers', () => {
  it('exits 1 within PEM_BIGQUERY_TIMEOUT_MS, in one line, and leaves no request open', async () => {
    // 2 s: the first command of this file loads the BigQuery client cold, which on a loaded machine
    // can take most of a shorter bound before any request reaches the server.
    const started = Date.now();
    const run = await runCli(['check', '--engine', 'bigquery', '--project', 'pem-test', '--date', '2025-10-07'], {
      env: { PEM_BIGQUERY_API_ENDPOINT: url, PEM_BIGQUERY_TIMEOUT_MS: '2000', PEM_RECORD_SELF: 'off' },
    });
    const elapsed = Date.now() - started;
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toEqual(['error: BigQuery project pem-test (US): no answer within 2000 ms (PEM_BIGQUERY_TIMEOUT_MS)']);
    expect(requests).toBeGreaterThan(0);
    // Bounded by the setting, not by the test's own timeout (30 s): the rest is the process's
    // own start, which a loaded CI machine can make take seconds.
    expect(elapsed).toBeLessThan(15_000);
    // The server sees the client's close on a later I/O turn: wait for it (a request left open
    // never closes, since nothing answers it), rather than sleep a fixed 50 ms.
    for (const deadline = Date.now() + 5_000; sockets.size > 0 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sockets.size).toBe(0);
  });

  it('refuses a PEM_BIGQUERY_TIMEOUT_MS that is not a number of milliseconds', async () => {
    const run = await runCli(['check', '--engine', 'bigquery', '--project', 'pem-test'], {
      env: { PEM_BIGQUERY_API_ENDPOINT: url, PEM_BIGQUERY_TIMEOUT_MS: '5m', PEM_RECORD_SELF: 'off' },
    });
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe("error: PEM_BIGQUERY_TIMEOUT_MS '5m' must be a whole number of milliseconds from 1 to 2147483647, for example 300000");
  });
});
