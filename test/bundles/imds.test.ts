import test from 'ava';
import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bundlePath } from '../helpers/run-stage';

// On a Jenkins agent on EC2 the AWS SDK inside a stage bundle reads its credentials from the instance
// metadata service over node:http. A loader of our own once broke that inside the bundled SDK
// (`import("node:http")` found no built-in), which no test saw: here the committed `status` bundle runs as
// Jenkins runs it, with no credentials but a fake instance metadata service, and must sign its first AWS
// call with the credentials that service gave.

const ROLE = 'jenkins-agent';
const ACCESS_KEY = 'ASIAIMDSBUNDLETEST';

test('a stage bundle signs its AWS calls with credentials from the instance metadata service', async (t) => {
  const seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders }> = [];
  const server = createServer((request, response) => {
    const url = request.url ?? '';
    seen.push({ method: request.method ?? '', url, headers: request.headers });
    request.resume();
    if (url === '/latest/api/token') response.end('imds-token');
    else if (url === '/latest/meta-data/iam/security-credentials/') response.end(ROLE);
    else if (url === `/latest/meta-data/iam/security-credentials/${ROLE}`)
      response.end(
        JSON.stringify({
          Code: 'Success',
          Type: 'AWS-HMAC',
          AccessKeyId: ACCESS_KEY,
          SecretAccessKey: 'imds-secret',
          Token: 'imds-session-token',
          Expiration: new Date(Date.now() + 3_600_000).toISOString(),
          LastUpdated: new Date().toISOString(),
        }),
      );
    // Any other request is the AWS call: refused, so the run ends there.
    else response.writeHead(url.startsWith('/latest/') ? 404 : 500).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const env: NodeJS.ProcessEnv = {};
    for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('AWS_')) env[name] = value;
    Object.assign(env, {
      AWS_REGION: 'eu-west-3',
      AWS_ENDPOINT_URL: endpoint,
      AWS_EC2_METADATA_SERVICE_ENDPOINT: endpoint,
      AWS_CONFIG_FILE: '/nonexistent/config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
      BLUEGREEN_AWS_MAX_ATTEMPTS: '1',
    });
    const child = spawn(process.execPath, [bundlePath('status'), '--cluster', 'web-prod'], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 60_000,
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    t.is(code, 1, `the refused AWS call fails the status run: ${stderr}`);
    const awsCalls = seen.filter((request) => !request.url.startsWith('/latest/'));
    t.true(awsCalls.length > 0, `an AWS call was made: ${seen.map((r) => `${r.method} ${r.url}`).join(', ')}`);
    for (const call of awsCalls)
      t.regex(String(call.headers.authorization), new RegExp(`Credential=${ACCESS_KEY}/\\d{8}/eu-west-3/`));
  } finally {
    server.close();
  }
});
