import test from 'ava';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { readEmbeddedSource, runEmbeddedModule } from '../../src/core/compile-cache';
import { bundlePath } from '../helpers/run-stage';

// The AWS SDK text a bundle carries is bundled as chunks (tsup.config.ts, bundleGroup): an `import()` inside
// the SDK becomes a require of a chunk or of a Node built-in, which must give the module's named exports as
// `import()` does. The SDK reads the region from the instance metadata service that way (`import("node:http")`).

/** The exports of the SDK text carried by `stage`'s bundle, run in this process. */
function sdkOf(stage: string): { packages: Record<string, Record<string, unknown>> } {
  const file = bundlePath(stage);
  const id = /\/\*bluegreen:embedded (bluegreen\/aws-sdk-[0-9a-f]{16}\.js)/.exec(readFileSync(file, 'utf8'))?.[1];
  if (!id) throw new Error(`${file} carries no SDK text`);
  return runEmbeddedModule(id, readEmbeddedSource(file, id)) as ReturnType<typeof sdkOf>;
}

test.serial('a client of the bundled SDK reads its region from the instance metadata service', async (t) => {
  const asked: string[] = [];
  const imds = createServer((request, response) => {
    asked.push(`${request.method} ${request.url}`);
    if (request.url === '/latest/api/token') response.end('token');
    else if (request.url === '/latest/meta-data/placement/region') response.end('eu-west-3');
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => imds.listen(0, '127.0.0.1', resolve));
  const saved = { ...process.env };
  try {
    for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
    Object.assign(process.env, {
      AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${(imds.address() as AddressInfo).port}`,
      AWS_CONFIG_FILE: '/nonexistent/config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    });
    const { EC2Client } = sdkOf('status').packages['@aws-sdk/client-ec2'] as {
      EC2Client: new (config: object) => { config: { region: () => Promise<string> } };
    };
    t.is(await new EC2Client({}).config.region(), 'eu-west-3');
    t.true(
      asked.some((line) => line.endsWith('/placement/region')),
      asked.join(', '),
    );
  } finally {
    process.env = saved;
    imds.close();
  }
});
