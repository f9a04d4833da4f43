import { createServer, type Server } from 'node:http';

/** An HTTP server that records every request and answers 500: proof that no AWS call was made. */
export interface RecordingServer {
  endpoint: string;
  requests: Array<{ method: string; url: string }>;
  close(): Promise<void>;
}

export async function startRecordingServer(): Promise<RecordingServer> {
  const requests: RecordingServer['requests'] = [];
  const server: Server = createServer((request, response) => {
    requests.push({ method: request.method ?? '', url: request.url ?? '' });
    request.resume();
    response.statusCode = 500;
    response.end('recording server: no AWS call was expected');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
