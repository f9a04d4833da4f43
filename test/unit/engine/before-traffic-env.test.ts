import test from 'ava';
import { commandEnvironment, creationTargetGroups } from '../../../src/deploy/operations/before-traffic';
import type { DeployPlan } from '../../../src/deploy/plan';
import type { DeployRequest } from '../../../src/deploy/request';

test('the command environment: the group, version, AMI, instances as JSON; the test listener only when given', (t) => {
  const base = {
    serverGroup: 'web-prod-v004',
    version: '4.0.0',
    amiId: 'ami-0123456789abcdef0',
    instances: [{ id: 'i-1', privateIp: '10.0.0.1' }],
  };
  t.deepEqual(commandEnvironment(base), {
    BLUEGREEN_SERVER_GROUP: 'web-prod-v004',
    BLUEGREEN_VERSION: '4.0.0',
    BLUEGREEN_AMI_ID: 'ami-0123456789abcdef0',
    BLUEGREEN_INSTANCES: '[{"id":"i-1","privateIp":"10.0.0.1"}]',
  });
  const withListener = commandEnvironment({ ...base, endpoint: { listenerArn: 'arn:l', url: 'http://lb:8080' } });
  t.is(withListener.BLUEGREEN_TEST_URL, 'http://lb:8080');
  t.is(withListener.BLUEGREEN_TEST_LISTENER_ARN, 'arn:l');
});

test('the new group is created in production only when nothing runs before traffic', (t) => {
  const plan = { targetGroupArns: ['arn:prod'] } as DeployPlan;
  const plain = {} as DeployRequest;
  const before = { beforeTraffic: { command: 'true', timeoutSeconds: 60 } } as DeployRequest;
  t.deepEqual(creationTargetGroups(plain, plan, undefined), ['arn:prod']);
  t.deepEqual(creationTargetGroups(before, plan, undefined), []);
  const testListener = { targetGroupArn: 'arn:tmp', tags: {}, endpoint: { listenerArn: 'arn:l', url: 'http://x:1' } };
  t.deepEqual(creationTargetGroups(before, plan, testListener), ['arn:tmp']);
});
