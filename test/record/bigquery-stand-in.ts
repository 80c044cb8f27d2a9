/**
 * A loopback stand-in for BigQuery's `tabledata.insertAll` REST method, for driving the real
 * `@google-cloud/bigquery` client (pointed at it with `apiEndpoint`). It keeps every request and
 * stores rows the way BigQuery does: a row whose insertId was already seen is dropped.
 *
 * Behaviours can be queued per request: answer normally, reject rows (`insertErrors`), answer an
 * HTTP error, store the rows and then drop the connection (a lost response), or never answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import net, { type Socket } from 'node:net';
import { OAuth2Client } from 'google-auth-library';

export interface InsertAllRow {
  insertId?: string;
  json: Record<string, unknown>;
}

export interface InsertAllRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: { rows?: InsertAllRow[]; [key: string]: unknown };
}

export type Behaviour =
  | { kind: 'ok' }
  /** Rejects rows for which `reason` returns a reason; the others are 'stopped', as BigQuery does. */
  | { kind: 'reject'; reason: (row: InsertAllRow) => { reason: string; message: string } | null }
  | { kind: 'http-error'; status: number; reason: string; message: string }
  /** Stores the rows, then destroys the connection before answering. */
  | { kind: 'store-then-drop' }
  | { kind: 'hang' };

export interface StandIn {
  /** `http://127.0.0.1:<port>`: the client's apiEndpoint. */
  endpoint: string;
  requests: InsertAllRequest[];
  /** Rows stored, after insertId de-duplication, in arrival order. */
  stored: InsertAllRow[];
  /** Behaviour of the next requests, one each; then `fallback`. */
  queue: Behaviour[];
  fallback: Behaviour;
  close(): Promise<void>;
}

export async function startStandIn(): Promise<StandIn> {
  const seen = new Set<string>();
  const sockets = new Set<Socket>();
  const standIn: StandIn = {
    endpoint: '',
    requests: [],
    stored: [],
    queue: [],
    fallback: { kind: 'ok' },
    close: async () => undefined,
  };
  const store = (rows: InsertAllRow[]) => {
    for (const row of rows) {
      if (row.insertId !== undefined && seen.has(row.insertId)) continue;
      if (row.insertId !== undefined) seen.add(row.insertId);
      standIn.stored.push(row);
    }
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      const body = text ? (JSON.parse(text) as InsertAllRequest['body']) : {};
      standIn.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      if (!/^\/bigquery\/v2\/projects\/[^/]+\/datasets\/[^/]+\/tables\/[^/]+\/insertAll(\?|$)/.test(req.url ?? '') || req.method !== 'POST') {
        return json(res, 404, { error: { code: 404, message: `Not found: ${req.method} ${req.url}`, errors: [{ reason: 'notFound', message: 'Not found' }] } });
      }
      const rows = body.rows ?? [];
      const behaviour = standIn.queue.shift() ?? standIn.fallback;
      switch (behaviour.kind) {
        case 'ok':
          store(rows);
          return json(res, 200, { kind: 'bigquery#tableDataInsertAllResponse' });
        case 'reject': {
          const verdicts = rows.map((row) => behaviour.reason(row));
          if (verdicts.every((v) => v === null)) {
            store(rows);
            return json(res, 200, { kind: 'bigquery#tableDataInsertAllResponse' });
          }
          // insertAll is all-or-nothing without skipInvalidRows: nothing is stored.
          const insertErrors = verdicts.map((v, index) => ({
            index,
            errors: [v ? { reason: v.reason, location: '', debugInfo: '', message: v.message } : { reason: 'stopped', location: '', debugInfo: '', message: '' }],
          }));
          return json(res, 200, { kind: 'bigquery#tableDataInsertAllResponse', insertErrors });
        }
        case 'http-error':
          return json(res, behaviour.status, {
            error: { code: behaviour.status, message: behaviour.message, errors: [{ reason: behaviour.reason, message: behaviour.message }] },
          });
        case 'store-then-drop':
          store(rows);
          req.socket.destroy();
          return;
        case 'hang':
          return;
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  standIn.endpoint = `http://127.0.0.1:${port}`;
  standIn.close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return standIn;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify(body));
}

/**
 * Credentials that need no network: a fixed access token. Without them the client would look
 * for Application Default Credentials, which probes the GCE metadata server.
 */
export function offlineAuthClient(): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: 'offline-test-token', expiry_date: Date.now() + 3_600_000 });
  return client;
}

/**
 * Refuses (and records) every TCP connection to anything but loopback, for the life of the test
 * file: no Google auth or metadata server can be contacted, even by mistake.
 */
export function guardNetwork(): { refused: string[]; restore: () => void } {
  const refused: string[] = [];
  const original = net.Socket.prototype.connect;
  const loopback = new Set(['127.0.0.1', 'localhost', '::1', undefined]);
  net.Socket.prototype.connect = function (this: Socket, ...args: unknown[]) {
    const first = (Array.isArray(args[0]) ? args[0][0] : args[0]) as { host?: string; port?: number; path?: string } | number | string;
    const host = typeof first === 'object' && first !== null ? (first.path ? 'localhost' : first.host) : typeof args[1] === 'string' ? args[1] : undefined;
    if (!loopback.has(host)) {
      refused.push(`${host}`);
      throw new Error(`test network guard: connection to ${host} refused`);
    }
    return (original as (...a: unknown[]) => Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;
  return { refused, restore: () => void (net.Socket.prototype.connect = original) };
}
