import test from 'ava';
import { get as httpGet } from 'node:http';
import {
  CreateListenerCommand,
  CreateRuleCommand,
  DeleteRuleCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ListenerEndpoint } from '../../src/sandbox/load-balancer';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox';
import { createAppAsg, createTargetGroup, getJson, makeAppAmi, waitForHealthyTarget } from './fixtures';

/**
 * Listeners of the sandbox's ALBs (issue #23): each gets its own local port, listed at
 * `GET /_sandbox/listeners`; ModifyListener and rules (ModifyRule) reroute from the next request.
 */

let sandbox: Sandbox;
let blueArn: string;

// Scale 0.05: boot 0.5 s, health interval 0.5 s (3 checks to healthy).
test.before(async () => {
  sandbox = await startSandbox({ infra: 'demo', timeScale: 0.05, bootSeconds: 10 });
  const aws = sandbox.clients();
  const infra = sandbox.infra!;
  blueArn = await createTargetGroup(aws, infra, 'blue-web', 10);
  await createAppAsg(aws, infra, 'main-v001', await makeAppAmi(aws, 'v1'), 1);
  await createAppAsg(aws, { ...infra, targetGroupArn: blueArn }, 'blue-v001', await makeAppAmi(aws, 'v2'), 1);
  for (const arn of [infra.targetGroupArn, blueArn]) await waitForHealthyTarget(aws, arn);
});

test.after.always(async () => {
  await sandbox?.stop();
});

async function listed(): Promise<ListenerEndpoint[]> {
  const { status, body } = await getJson(`${sandbox.endpoint}/_sandbox/listeners`);
  if (status !== 200) throw new Error(`GET /_sandbox/listeners answered ${status}`);
  return body?.listeners as ListenerEndpoint[];
}

/** `<status> <version>` of a GET (node:http: fetch would not send a Host header of our choice). */
function versionAt(url: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    httpGet(url, { headers }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => {
        const body = JSON.parse(text) as { version?: string };
        resolve(`${response.statusCode} ${body.version}`);
      });
    }).on('error', reject);
  });
}

test.serial(
  'GET /_sandbox/listeners names each listener: ARN, load balancer, region, port, protocol, local URL',
  async (t) => {
    const infra = sandbox.infra!;
    const demo = (await listed()).find((l) => l.listenerArn === infra.listenerArn);
    t.like(demo, {
      type: 'application',
      loadBalancerArn: infra.loadBalancerArn,
      loadBalancerName: infra.loadBalancerName,
      region: 'us-east-1',
      protocol: 'HTTP',
      awsPort: 80,
      url: sandbox.listenerUrl,
    });
    t.regex(demo?.url ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
    t.is(await versionAt(demo?.url as string), '200 v1');
  },
);

test.serial(
  'a listener created with CreateListener gets its own local port and is listed once the call answers',
  async (t) => {
    const aws = sandbox.clients();
    const infra = sandbox.infra!;
    const created = await aws.elbv2.send(
      new CreateListenerCommand({
        LoadBalancerArn: infra.loadBalancerArn,
        Protocol: 'HTTP',
        Port: 8080,
        DefaultActions: [{ Type: 'forward', TargetGroupArn: blueArn }],
      }),
    );
    const arn = created.Listeners?.[0]?.ListenerArn as string;
    const testListener = (await listed()).find((l) => l.listenerArn === arn);
    t.like(testListener, { awsPort: 8080, loadBalancerName: infra.loadBalancerName, region: 'us-east-1' });
    t.not(testListener?.url, sandbox.listenerUrl);
    t.is(await versionAt(testListener?.url as string), '200 v2', 'the test listener forwards to its own target group');
    t.is(await versionAt(sandbox.listenerUrl as string), '200 v1', 'the production listener is unchanged');
  },
);

test.serial('ModifyListener to another target group takes effect on the very next request', async (t) => {
  const aws = sandbox.clients();
  const infra = sandbox.infra!;
  const url = sandbox.listenerUrl as string;
  for (const [arn, version] of [
    [blueArn, 'v2'],
    [infra.targetGroupArn, 'v1'],
  ] as const) {
    await aws.elbv2.send(
      new ModifyListenerCommand({
        ListenerArn: infra.listenerArn,
        DefaultActions: [{ Type: 'forward', TargetGroupArn: arn }],
      }),
    );
    t.is(await versionAt(url), `200 ${version}`);
  }
});

test.serial('listener rules route by path, header and host; ModifyRule and DeleteRule reroute at once', async (t) => {
  const aws = sandbox.clients();
  const infra = sandbox.infra!;
  const url = sandbox.listenerUrl as string;
  const api = await aws.elbv2.send(
    new CreateRuleCommand({
      ListenerArn: infra.listenerArn,
      Priority: 10,
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/api/*'] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: blueArn }],
    }),
  );
  await aws.elbv2.send(
    new CreateRuleCommand({
      ListenerArn: infra.listenerArn,
      Priority: 20,
      Conditions: [{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Canary', Values: ['1'] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: blueArn }],
    }),
  );
  await aws.elbv2.send(
    new CreateRuleCommand({
      ListenerArn: infra.listenerArn,
      Priority: 30,
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['maintenance.*'] } }],
      Actions: [
        {
          Type: 'fixed-response',
          FixedResponseConfig: {
            StatusCode: '503',
            ContentType: 'application/json',
            MessageBody: '{"version":"down"}',
          },
        },
      ],
    }),
  );
  t.is(await versionAt(`${url}/api/orders`), '200 v2');
  t.is(await versionAt(`${url}/`, { 'x-canary': '1' }), '200 v2');
  t.is(await versionAt(`${url}/`, { host: 'maintenance.example.com' }), '503 down');
  t.is(await versionAt(`${url}/`), '200 v1', 'no rule matches: the default action');

  const apiArn = api.Rules?.[0]?.RuleArn as string;
  await aws.elbv2.send(
    new ModifyRuleCommand({ RuleArn: apiArn, Actions: [{ Type: 'forward', TargetGroupArn: infra.targetGroupArn }] }),
  );
  t.is(await versionAt(`${url}/api/orders`), '200 v1', 'ModifyRule reroutes the next request');
  await aws.elbv2.send(
    new ModifyRuleCommand({
      RuleArn: apiArn,
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/v2/*'] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: blueArn }],
    }),
  );
  t.is(await versionAt(`${url}/v2/orders`), '200 v2', 'ModifyRule changes conditions too');
  t.is(await versionAt(`${url}/api/orders`), '200 v1');
  await aws.elbv2.send(new DeleteRuleCommand({ RuleArn: apiArn }));
  t.is(await versionAt(`${url}/v2/orders`), '200 v1', 'a deleted rule routes no more');
});
