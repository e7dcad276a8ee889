/**
 * The shared SDK clients' connection handling. Evaluation makes two Converse calls per test
 * record; the Bedrock Runtime client's default handler (HTTP/2 with disableConcurrentStreams)
 * opens a new connection, and in AWS a new TLS handshake, for every one of them.
 */
import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { bedrockRuntimeClient, resetClients } from '../../lambda/shared/aws-clients';

const CONVERSE_REPLY = JSON.stringify({
  output: { message: { role: 'assistant', content: [{ text: '4' }] } },
  stopReason: 'end_turn',
  usage: { inputTokens: 5, outputTokens: 1, totalTokens: 6 },
  metrics: { latencyMs: 1 },
});

describe('bedrockRuntimeClient', () => {
  let server: Server;
  let connections = 0;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    // A plain HTTP/1.1 endpoint that counts the TCP connections it is given.
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(CONVERSE_REPLY));
    });
    server.on('connection', () => (connections += 1));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    Object.assign(process.env, {
      AWS_REGION: 'us-west-2',
      AWS_ACCESS_KEY_ID: 'AKIDCLIENTS',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    });
    resetClients();
  });

  afterAll(async () => {
    resetClients();
    process.env = savedEnv;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('keeps HTTP/1.1 connections alive: 40 calls, 8 at a time, open at most 8 connections', async () => {
    const converse = () => bedrockRuntimeClient().send(new ConverseCommand({ modelId: 'us.meta.llama3-2-1b-instruct-v1:0', messages: [{ role: 'user', content: [{ text: 'What is 2 plus 2?' }] }] }));
    for (let round = 0; round < 5; round++) {
      const answers = await Promise.all(Array.from({ length: 8 }, converse));
      expect(answers.map((a) => a.output?.message?.content?.[0]?.text)).toEqual(Array(8).fill('4'));
    }
    expect(connections).toBeGreaterThan(0);
    expect(connections).toBeLessThanOrEqual(8);
  });
});
