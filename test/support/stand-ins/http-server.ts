/**
 * The HTTP plumbing every local AWS stand-in shares: one port on 127.0.0.1 that speaks both
 * HTTP/1.1 and cleartext HTTP/2 (the Bedrock Runtime client uses an HTTP/2 handler by
 * default, the other clients HTTP/1.1), body reading, a clean stop that does not wait for
 * the SDK's keep-alive connections, and the caller's access key id from the SigV4 scope.
 */
import { createServer, IncomingMessage } from 'node:http';
import { createServer as createHttp2Server, Http2ServerRequest } from 'node:http2';
import { AddressInfo, createServer as createNetServer, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Duplex } from 'node:stream';

/** A request over either protocol (Node's HTTP/2 compatibility API mirrors node:http). */
export type StandInRequest = IncomingMessage | Http2ServerRequest;

/** The part of the response API both protocols share. */
export interface StandInResponse {
  readonly headersSent: boolean;
  writeHead(status: number, headers?: Record<string, string | number>): unknown;
  end(body?: Buffer | string): unknown;
}

/** A request handler; it must answer `res` itself. */
export type RequestHandler = (req: StandInRequest, res: StandInResponse) => Promise<void>;

/** A running server. */
export interface RunningServer {
  /** `http://127.0.0.1:<port>`; 127.0.0.1 (not localhost) so the S3 client uses path-style URLs. */
  readonly endpoint: string;
  readonly port: number;
  /** Closes the server and every open connection. */
  close(): Promise<void>;
}

/** Every HTTP/2 connection opens with this preface (RFC 9113, section 3.4). */
const HTTP2_PREFACE_START = Buffer.from('PRI * HTTP/2.0');

/**
 * Starts `handler` on 127.0.0.1. Port 0 picks a free port. A handler that throws answers 500
 * with the error message, so a bug in a stand-in shows up in the test rather than as a hang.
 */
export async function startServer(handler: RequestHandler, port = 0, name = 'stand-in'): Promise<RunningServer> {
  const listener = (req: StandInRequest, res: StandInResponse) => {
    handler(req, res).catch((err: unknown) => {
      const message = `${name} failed while answering ${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`;
      process.stderr.write(`${message}\n`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(message);
    });
  };
  const http1 = createServer(listener);
  // Http2ServerResponse has the same writeHead/end as node:http, but with other overloads listed first.
  const http2 = createHttp2Server((req, res) => listener(req, res as unknown as StandInResponse));
  const sockets = new Set<Socket>();

  // Route each connection by its first bytes: the HTTP/2 preface, or anything else for HTTP/1.1.
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.once('data', (first: Buffer) => {
      const prefix = HTTP2_PREFACE_START.subarray(0, Math.min(first.length, HTTP2_PREFACE_START.length));
      if (first.subarray(0, prefix.length).equals(prefix)) {
        // The HTTP/2 session reads the socket's native handle, so bytes already read must be replayed through a stream.
        http2.emit('connection', replayingStream(socket, first));
      } else {
        socket.pause();
        socket.unshift(first);
        http1.emit('connection', socket);
        socket.resume();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // The SDK keeps connections alive; without this, close() waits for them to time out.
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** A duplex over `socket` whose readable side starts with `first` (bytes already taken off the socket). */
function replayingStream(socket: Socket, first: Buffer): Duplex {
  const stream = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(err, callback) {
      socket.destroy(err ?? undefined);
      callback(err);
    },
  });
  stream.push(first);
  socket.on('data', (chunk: Buffer) => {
    if (!stream.push(chunk)) socket.pause();
  });
  socket.on('end', () => stream.push(null));
  socket.on('error', (err) => stream.destroy(err));
  socket.on('close', () => stream.destroy());
  return stream;
}

/** Reads the whole request body. */
export async function readBody(req: StandInRequest): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The access key id of the caller, from `Authorization: AWS4-HMAC-SHA256 Credential=<key>/...`
 * or a presigned URL's `X-Amz-Credential`; `anonymous` when unsigned.
 */
export function principalOf(req: StandInRequest, query: URLSearchParams): string {
  const auth = String(req.headers.authorization ?? '');
  const fromHeader = /Credential=([^/,\s]+)\//.exec(auth);
  if (fromHeader) return fromHeader[1];
  const fromQuery = query.get('X-Amz-Credential');
  if (fromQuery) return fromQuery.split('/')[0];
  return 'anonymous';
}

/**
 * Answers with a JSON body as the AWS JSON and restJson protocols do: the request id header, and
 * for an error the `x-amzn-errortype` header (the body then holds `__type`/`message`).
 */
export function sendJson(
  res: StandInResponse,
  answer: { readonly status: number; readonly payload: unknown; readonly requestId: string; readonly contentType: string; readonly errorType?: string },
): void {
  const body = Buffer.from(JSON.stringify(answer.payload), 'utf8');
  const headers: Record<string, string | number> = { 'content-type': answer.contentType, 'content-length': body.length, 'x-amzn-requestid': answer.requestId };
  if (answer.errorType) headers['x-amzn-errortype'] = answer.errorType;
  res.writeHead(answer.status, headers);
  res.end(body);
}

/** Random bytes for request ids, drawn 4 KiB at a time: one randomBytes call per request cost 20 µs, 2% of the stand-ins' CPU in the 100,000-record run. */
let randomPool = Buffer.alloc(0);
let randomOffset = 0;

/** A random id in the style of AWS request ids (16 hex digits). */
export function newRequestId(): string {
  if (randomOffset + 8 > randomPool.length) {
    randomPool = randomBytes(4096);
    randomOffset = 0;
  }
  randomOffset += 8;
  return randomPool.toString('hex', randomOffset - 8, randomOffset).toUpperCase();
}

/** Waits `ms` milliseconds (0 resolves on the next turn). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
