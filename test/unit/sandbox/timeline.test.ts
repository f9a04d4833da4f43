import test from 'ava';
import { classifyRequest } from '../../../src/sandbox/aws-request';
import { callEventOf, Timeline } from '../../../src/sandbox/timeline';

const auth =
  'AWS4-HMAC-SHA256 Credential=AKID/20261201/us-east-1/elasticloadbalancing/aws4_request, SignedHeaders=host, Signature=abc';

test('events come back ordered by time; past the capacity the oldest are dropped and counted', (t) => {
  const timeline = new Timeline(3);
  for (const at of [10, 30, 20, 40, 50])
    timeline.record({ at, kind: 'target-state', targetGroupArn: 'tg', targetId: `i-${at}`, state: 'healthy' });
  const snapshot = timeline.snapshot();
  t.deepEqual(
    snapshot.events.map((e) => e.at),
    [20, 40, 50],
  );
  t.is(snapshot.dropped, 2);
  t.deepEqual(
    timeline.snapshot(40).events.map((e) => e.at),
    [40, 50],
  );
  timeline.reset();
  t.deepEqual(timeline.snapshot(), { events: [], dropped: 0 });
});

test('a call event names the call and the group, target group and targets it is about', (t) => {
  const call = classifyRequest({
    method: 'POST',
    url: '/',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth },
    body: Buffer.from(
      'Action=DeregisterTargets&TargetGroupArn=arn%3Atg&Targets.member.1.Id=i-1&Targets.member.1.Port=80&Targets.member.2.Id=i-2',
    ),
  });
  t.deepEqual(callEventOf(call, 5, 'throttle'), {
    at: 5,
    kind: 'call',
    service: 'elasticloadbalancing',
    action: 'DeregisterTargets',
    fault: 'throttle',
    targetGroupArn: 'arn:tg',
    targetIds: ['i-1', 'i-2'],
  });
});
