import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { classifyRequest, type AwsCall } from '../../src/sandbox/aws-request';
import { closeHttpServer, listenLoopback } from '../../src/sandbox/ports';

/**
 * A network hop between one client and the sandbox gateway: it sees exactly
 * the calls of the process pointed at it (the gateway sees everyone's), and it
 * can lose a response after the call reached AWS (the network fault behind an
 * SDK retry answered 412), which the gateway cannot.
 */
export interface AwsProxy {
  endpoint: string;
  /** Every call that passed, in order, with its arrival time (epoch ms, comparable with S3's LastModified on this machine). */
  calls: Array<AwsCall & { at: number }>;
  /** Forwards the next `count` calls matching `match`, then drops their answers (the client sees the connection reset). */
  dropResponses(match: (call: AwsCall) => boolean, count?: number): void;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Starts a proxy on 127.0.0.1 in front of `target` (the gateway endpoint). */
export async function startAwsProxy(target: string): Promise<AwsProxy> {
  const upstreamUrl = new URL(target);
  const calls: AwsProxy['calls'] = [];
  const drops: Array<{ match: (call: AwsCall) => boolean; left: number }> = [];
  const server: Server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      const call = classifyRequest({
        method: request.method ?? 'GET',
        url: request.url ?? '/',
        headers: request.headers,
        body,
      });
      calls.push({ ...call, at: Date.now() });
      const drop = drops.find((d) => d.left > 0 && d.match(call));
      if (drop) drop.left -= 1;
      const upstream = httpRequest({
        host: upstreamUrl.hostname,
        port: upstreamUrl.port,
        method: request.method,
        path: request.url,
        headers: request.headers,
      });
      upstream.on('error', () => response.destroy());
      upstream.on('response', (answer) => {
        if (drop) {
          // The call was done upstream; its answer is lost on the way back.
          answer.resume();
          answer.on('end', () => response.socket?.destroy());
          return;
        }
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      });
      upstream.end(body);
    })();
  });
  const port = await listenLoopback(server, 0);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    dropResponses: (match, count = 1) => drops.push({ match, left: count }),
    close: () => closeHttpServer(server),
  };
}
