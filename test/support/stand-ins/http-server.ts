/**
 * The HTTP plumbing every local AWS stand-in shares: a server on 127.0.0.1, body reading,
 * a clean stop that does not wait for the SDK's keep-alive sockets, and the caller's
 * access key id taken from the SigV4 credential scope.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

/** A request handler; it must answer `res` itself. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** A running server. */
export interface RunningServer {
  /** `http://127.0.0.1:<port>`; 127.0.0.1 (not localhost) so the S3 client uses path-style URLs. */
  readonly endpoint: string;
  readonly port: number;
  /** Closes the server and every open connection. */
  close(): Promise<void>;
}

/**
 * Starts `handler` on 127.0.0.1. Port 0 picks a free port. A handler that throws answers 500
 * with the error message, so a bug in a stand-in shows up in the test rather than as a hang.
 */
export async function startServer(handler: RequestHandler, port = 0, name = 'stand-in'): Promise<RunningServer> {
  const server: Server = createServer((req, res) => {
    handler(req, res).catch((err: unknown) => {
      const message = `${name} failed while answering ${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`;
      process.stderr.write(`${message}\n`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(message);
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
        // The SDK keeps sockets alive; without this, close() waits for them to time out.
        server.closeAllConnections();
      }),
  };
}

/** Reads the whole request body. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The access key id of the caller, from `Authorization: AWS4-HMAC-SHA256 Credential=<key>/...`
 * or a presigned URL's `X-Amz-Credential`; `anonymous` when unsigned.
 */
export function principalOf(req: IncomingMessage, query: URLSearchParams): string {
  const auth = String(req.headers.authorization ?? '');
  const fromHeader = /Credential=([^/,\s]+)\//.exec(auth);
  if (fromHeader) return fromHeader[1];
  const fromQuery = query.get('X-Amz-Credential');
  if (fromQuery) return fromQuery.split('/')[0];
  return 'anonymous';
}

/** A random id in the style of AWS request ids. */
export function newRequestId(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}

/** Waits `ms` milliseconds (0 resolves on the next turn). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
