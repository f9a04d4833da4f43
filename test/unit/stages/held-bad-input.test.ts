import test from 'ava';
import { abortStage, promoteStage } from '../../../src/stages/promote';
import { runStage } from '../helpers/run-stage';

// Bad promote/abort input that can be told without AWS: exit 2 naming the field, no AWS client asked for.
const base: Record<string, unknown> = { region: 'us-east-1', cluster: 'web-prod', ledger: { bucket: 'deploy-ledger' } };

const cases: Array<{ title: string; change: Record<string, unknown>; field: string; pattern: RegExp }> = [
  {
    title: 'serverGroup with regions',
    change: { serverGroup: 'web-prod-v004', regions: ['us-east-1', 'eu-west-1'] },
    field: 'serverGroup',
    pattern: /not with regions/,
  },
  { title: 'not a server group name', change: { serverGroup: 'web-prod' }, field: 'serverGroup', pattern: /v004/ },
  { title: 'an approver on two lines', change: { approvedBy: 'alice\nbob' }, field: 'approvedBy', pattern: /line/ },
  { title: 'a bad region', change: { regions: ['moon-1'] }, field: 'regions[0]', pattern: /region/ },
];

for (const stage of [promoteStage, abortStage]) {
  for (const c of cases) {
    test(`${stage.name}: ${c.title} → exit 2 naming ${c.field}, no AWS call`, async (t) => {
      const run = await runStage(stage, [], { input: { ...base, ...c.change } });
      t.is(run.exitCode, 2, run.stderr);
      t.is(run.output?.error?.field, c.field, JSON.stringify(run.output));
      t.regex(run.output?.error?.message ?? '', c.pattern);
      t.is(run.awsClientRequests, 0, 'no AWS client was even built');
    });
  }
}

test('abort takes no afterTraffic: exit 2 naming it', async (t) => {
  const run = await runStage(abortStage, [], { input: { ...base, afterTraffic: 'echo hi' } });
  t.is(run.exitCode, 2, run.stderr);
  t.is(run.output?.error?.field, 'afterTraffic');
});
