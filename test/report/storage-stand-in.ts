/**
 * A Cloud Storage stand-in on 127.0.0.1 for the real `@google-cloud/storage` client (its
 * `apiEndpoint`): the two upload protocols of the JSON API and what they answer.
 *
 *   multipart  POST /upload/storage/v1/b/BUCKET/o?uploadType=multipart   metadata + content in one request
 *   resumable  POST …?uploadType=resumable&name=…  → 200 + Location (the session URI)
 *              PUT  <session URI>                    → 200 + the object's metadata
 * https://cloud.google.com/storage/docs/json_api/v1/how-tos/multipart-upload
 * https://cloud.google.com/storage/docs/performing-resumable-uploads
 *
 * The object's metadata carries `md5Hash` and `crc32c`, as Cloud Storage's does, so the client's
 * upload validation runs against it.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CRC32C } from '@google-cloud/storage';
import { listenOnLoopback } from '../alerts/support.js';

export interface StoredObject {
  bucket: string;
  name: string;
  contentType?: string | undefined;
  cacheControl?: string | undefined;
  body: Buffer;
  protocol: 'multipart' | 'resumable';
  at: number;
}

export interface UploadRequest {
  method: string;
  path: string;
  uploadType: string | null;
  at: number;
}

/** An answer other than the normal one: an HTTP error, or never answering. */
export type Fault = { status: number; message?: string } | 'hang' | null;

export interface StorageStandIn {
  url: string;
  objects: Map<string, StoredObject>;
  requests: UploadRequest[];
  /** Chooses a fault for each request (by index); null answers normally. */
  fault(choose: (request: UploadRequest, index: number) => Fault): void;
  close(): Promise<void>;
}

export async function startStorageStandIn(): Promise<StorageStandIn> {
  const objects = new Map<string, StoredObject>();
  const requests: UploadRequest[] = [];
  const sessions = new Map<string, { bucket: string; name: string; contentType?: string; cacheControl?: string }>();
  const hanging: ServerResponse[] = [];
  let choose: (request: UploadRequest, index: number) => Fault = () => null;
  let sessionCount = 0;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const request: UploadRequest = { method: req.method ?? '', path: url.pathname, uploadType: url.searchParams.get('uploadType'), at: Date.now() };
      requests.push(request);
      const fault = choose(request, requests.length - 1);
      if (fault === 'hang') {
        hanging.push(res);
        return;
      }
      if (fault) {
        json(res, fault.status, { error: { code: fault.status, message: fault.message ?? 'stand-in fault', errors: [{ message: fault.message ?? 'stand-in fault' }] } });
        return;
      }
      const bucket = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname)?.[1];
      if (!bucket) return json(res, 404, { error: { code: 404, message: `no route ${url.pathname}` } });
      if (req.method === 'POST' && request.uploadType === 'multipart') return multipart(req, res, bucket, body);
      if (req.method === 'POST' && request.uploadType === 'resumable') {
        const meta = body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, string>) : {};
        const id = `session-${++sessionCount}`;
        // The client names the content type in X-Upload-Content-Type, as Cloud Storage documents.
        const contentType = meta.contentType ?? (req.headers['x-upload-content-type'] as string | undefined);
        sessions.set(id, { bucket, name: url.searchParams.get('name') ?? meta.name ?? '', contentType, cacheControl: meta.cacheControl });
        const { port } = server.address() as AddressInfo;
        res.writeHead(200, { location: `http://127.0.0.1:${port}/upload/storage/v1/b/${bucket}/o?uploadType=resumable&upload_id=${id}` });
        res.end();
        return;
      }
      if (req.method === 'PUT' && request.uploadType === 'resumable') {
        const session = sessions.get(url.searchParams.get('upload_id') ?? '');
        if (!session) return json(res, 404, { error: { code: 404, message: 'no such upload session' } });
        return store(res, { ...session, body, protocol: 'resumable', at: Date.now() });
      }
      json(res, 400, { error: { code: 400, message: `unsupported ${req.method} ${request.uploadType}` } });
    });
  });

  function multipart(req: IncomingMessage, res: ServerResponse, bucket: string, body: Buffer): void {
    const boundary = /boundary="?([^";]+)"?/.exec(req.headers['content-type'] ?? '')?.[1];
    if (!boundary) return json(res, 400, { error: { code: 400, message: 'multipart upload without a boundary' } });
    const parts = splitMultipart(body, boundary);
    if (parts.length !== 2) return json(res, 400, { error: { code: 400, message: `expected 2 parts, got ${parts.length}` } });
    const meta = JSON.parse(parts[0]!.toString('utf8')) as Record<string, string>;
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    store(res, {
      bucket,
      name: meta.name ?? url.searchParams.get('name') ?? '',
      contentType: meta.contentType,
      cacheControl: meta.cacheControl,
      body: parts[1]!,
      protocol: 'multipart',
      at: Date.now(),
    });
  }

  function store(res: ServerResponse, object: StoredObject): void {
    objects.set(`${object.bucket}/${object.name}`, object);
    json(res, 200, {
      kind: 'storage#object',
      bucket: object.bucket,
      name: object.name,
      generation: String(Date.now()),
      size: String(object.body.length),
      contentType: object.contentType,
      cacheControl: object.cacheControl,
      md5Hash: createHash('md5').update(object.body).digest('base64'),
      crc32c: crc32cOf(object.body),
    });
  }

  const { port, close } = await listenOnLoopback(server, hanging);
  return {
    url: `http://127.0.0.1:${port}`,
    objects,
    requests,
    fault(next) {
      choose = next;
    },
    close,
  };
}

function crc32cOf(body: Buffer): string {
  const crc = new CRC32C();
  crc.update(body);
  return crc.toString();
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** The parts of a multipart/related body, headers stripped (RFC 2046 §5.1.1). */
function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Buffer[] = [];
  let start = body.indexOf(delimiter);
  while (start !== -1) {
    const next = body.indexOf(delimiter, start + delimiter.length);
    if (next === -1) break;
    const part = body.subarray(start + delimiter.length, next);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd !== -1) {
      let content = part.subarray(headerEnd + 4);
      if (content.subarray(-2).toString() === '\r\n') content = content.subarray(0, -2);
      parts.push(content);
    }
    start = next;
  }
  return parts;
}
