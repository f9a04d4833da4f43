import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { classifyRequest } from '../../src/sandbox/aws-request';

/** One AWS call as the stage sent it, and moto's answer. */
export interface LoggedCall {
  service: string;
  action: string;
  mutating: boolean;
  /** Query-protocol parameters (EC2, Auto Scaling, ELBv2, CloudWatch). */
  params: Record<string, string>;
  /** Path and query as sent (S3: `/bucket/key?…`, path style). */
  url: string;
  status: number;
  /** moto's answer (to learn ids it made, e.g. a launch template's). */
  response: string;
  /** Access key of the caller (which role made the call). */
  accessKeyId: string;
}

/** A forwarding proxy in front of moto that logs every call (127.0.0.1 only). */
export interface AwsCallLog {
  endpoint: string;
  calls: LoggedCall[];
  close(): Promise<void>;
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Starts the proxy. Headers go through unchanged (host included), so moto
 * checks the SigV4 signatures the clients made for the proxy's address.
 */
export async function startAwsCallLog(motoEndpoint: string): Promise<AwsCallLog> {
  const moto = new URL(motoEndpoint);
  const calls: LoggedCall[] = [];
  const server: Server = createServer((request, response) => {
    void (async () => {
      const body = await readAll(request);
      const call = classifyRequest({
        method: request.method ?? 'GET',
        url: request.url ?? '/',
        headers: request.headers,
        body,
      });
      const upstream = httpRequest({
        host: moto.hostname,
        port: moto.port,
        method: request.method,
        path: request.url,
        headers: request.headers,
      });
      const answer = await new Promise<IncomingMessage>((resolve, reject) => {
        upstream.once('response', resolve);
        upstream.once('error', reject);
        upstream.end(body);
      });
      const payload = await readAll(answer);
      const credential = /Credential=([^/,\s]+)/.exec(String(request.headers.authorization ?? ''))?.[1] ?? '';
      calls.push({
        service: call.service,
        action: call.action,
        mutating: call.mutating,
        params: Object.fromEntries(call.params),
        url: request.url ?? '/',
        status: answer.statusCode ?? 502,
        response: payload.toString('utf8').slice(0, 20_000),
        accessKeyId: credential,
      });
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      response.end(payload);
    })().catch((error: unknown) => {
      response.writeHead(502);
      response.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
