import test from 'ava';
import { Tag } from '../../../src/aws/tags';
import { orphanKind } from '../../../src/deploy/operations/orphan-target-groups';
import { TestListenerTag } from '../../../src/deploy/operations/test-listener';

// Which target groups crash recovery may delete: only what bluegreen made for this cluster's deploys (name and
// tags both say so) and no server group of the cluster owns.

const ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/x/1';
const canaryTags = { [Tag.cluster]: 'web-prod', [Tag.canaryOf]: 'web-prod-v004' };
const testTags = { [Tag.cluster]: 'web-prod', [TestListenerTag.listener]: 'arn:…:listener/app/web/1/2' };

test('a canary target group whose group was never made is an orphan; one whose group exists is not', (t) => {
  t.is(orphanKind('web-prod-v004-cy0', ARN, canaryTags, 'web-prod', []), 'canary');
  t.is(orphanKind('web-prod-v004-cy1', ARN, canaryTags, 'web-prod', [{ name: 'web-prod-v003', tags: {} }]), 'canary');
  t.is(orphanKind('web-prod-v004-cy0', ARN, canaryTags, 'web-prod', [{ name: 'web-prod-v004', tags: {} }]), undefined);
});

test('a temporary test target group is an orphan unless a group of the cluster records it', (t) => {
  t.is(orphanKind('bgtest-0123456789abcdef01234567', ARN, testTags, 'web-prod', []), 'test');
  const owner = { name: 'web-prod-v004', tags: { [TestListenerTag.targetGroup]: ARN } };
  t.is(orphanKind('bgtest-0123456789abcdef01234567', ARN, testTags, 'web-prod', [owner]), undefined);
});

test('never one without our tags, of another cluster, or whose name does not match its tags', (t) => {
  t.is(orphanKind('web-prod-v004-cy0', ARN, {}, 'web-prod', []), undefined, 'our name, no tags');
  t.is(orphanKind('web-prod-v004-cy0', ARN, canaryTags, 'web-other', []), undefined, 'another cluster');
  t.is(orphanKind('web-tg', ARN, canaryTags, 'web-prod', []), undefined, 'tags copied onto a production group');
  t.is(orphanKind('web-prod-v005-cy0', ARN, canaryTags, 'web-prod', []), undefined, 'the name is not its canary-of');
  t.is(orphanKind('bgtest-x', ARN, { [Tag.cluster]: 'web-prod' }, 'web-prod', []), undefined, 'no test-listener tag');
  t.is(orphanKind('web-prod-tests', ARN, testTags, 'web-prod', []), undefined, 'not a bgtest- name');
});
