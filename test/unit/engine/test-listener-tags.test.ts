import test from 'ava';
import {
  TEST_TARGET_GROUP_PREFIX,
  previousActionTags,
  previousActionsOf,
  testTargetGroupName,
} from '../../../src/deploy/operations/test-listener';

test('the previous actions survive the round trip through 256-character tag values', (t) => {
  const actions = [
    {
      Type: 'fixed-response' as const,
      FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain', MessageBody: 'x'.repeat(700) },
    },
  ];
  const tags = previousActionTags(actions);
  t.true(Object.keys(tags).length >= 3);
  t.true(Object.values(tags).every((value) => value.length <= 256));
  t.deepEqual(previousActionsOf(tags), actions);
  t.is(previousActionsOf({}), undefined);
});

test('the temporary target group name: AWS-valid (32 at most), prefixed for the IAM policy, one per server group', (t) => {
  const name = testTargetGroupName(`${'a'.repeat(119)}-v001`);
  t.true(name.length <= 32);
  t.true(name.startsWith(TEST_TARGET_GROUP_PREFIX));
  t.regex(name, /^[A-Za-z0-9-]+$/);
  t.not(testTargetGroupName('web-v001'), testTargetGroupName('web-v002'));
});
