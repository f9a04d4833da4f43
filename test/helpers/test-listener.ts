import {
  CreateListenerCommand,
  DescribeListenersCommand,
  DescribeTargetGroupsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { DeploySandbox } from './deploy-sandbox';

/** The test listener (port 8080 on the demo ALB, forwarding to production at first): made by the first test that needs it. */
export async function ensureTestListener(env: DeploySandbox): Promise<string> {
  const infra = env.sandbox.infra!;
  const existing = (
    await env.aws.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: infra.loadBalancerArn }))
  ).Listeners?.find((l) => l.Port === 8080);
  if (existing?.ListenerArn) return existing.ListenerArn;
  const created = await env.aws.elbv2.send(
    new CreateListenerCommand({
      LoadBalancerArn: infra.loadBalancerArn,
      Protocol: 'HTTP',
      Port: 8080,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: infra.targetGroupArn }],
    }),
  );
  return created.Listeners?.[0]?.ListenerArn as string;
}

/** A listener's default actions, reduced to type and target group. */
export async function listenerActions(env: DeploySandbox, arn: string): Promise<unknown> {
  const listener = (await env.aws.elbv2.send(new DescribeListenersCommand({ ListenerArns: [arn] }))).Listeners?.[0];
  return listener?.DefaultActions?.map((a) => ({ Type: a.Type, TargetGroupArn: a.TargetGroupArn }));
}

/** The names of the temporary target groups a test listener's deploy made (`bgtest-…`). */
export async function temporaryTargetGroups(env: DeploySandbox): Promise<string[]> {
  const all = (await env.aws.elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
  return all.map((g) => g.TargetGroupName as string).filter((name) => name.startsWith('bgtest-'));
}
