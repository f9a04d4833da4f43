import test from 'ava';
import { OperationFailedError } from '../../../src/core/errors';
import type { StageDefinition } from '../../../src/stages/framework';
import { canaryMetricLines } from '../../../src/stages/canary-summary';
import { deployStage } from '../../../src/stages/deploy';
import { runStage } from '../helpers/run-stage';

// A canary's per-metric verdicts on the build page: one short line each (metric, canary vs baseline,
// verdict, the step's score), in the output as `summaryDetail` whether the deploy passed or failed.

const verification = {
  steps: [
    {
      step: '10%',
      verdict: 'failed',
      analysis: {
        score: 0,
        verdict: 'fail',
        metrics: [
          { name: 'errorRate', verdict: 'fail', canary: 0.2013, baseline: 0.001 },
          { name: 'latencyP99', verdict: 'pass', canary: 31.6, baseline: 30.2 },
          { name: 'queueDepth', verdict: 'nodata' },
          { name: 'cpu', verdict: 'marginal', canary: 61.234, baseline: 40 },
        ],
      },
    },
    // A watch step without analysis (red/black): no line.
    { step: 'watch', verdict: 'passed' },
  ],
};

const LINES = [
  'canary 10% errorRate: 20.1 % vs 0.1 %, fail (step score 0, fail)',
  'canary 10% latencyP99: 32 ms vs 30 ms, pass (step score 0, fail)',
  'canary 10% queueDepth: no data vs no data, nodata (step score 0, fail)',
  'canary 10% cpu: 61.2 vs 40, marginal (step score 0, fail)',
];

test('one line per metric of each analysed step; none without an analysis', (t) => {
  t.deepEqual(canaryMetricLines(verification), LINES);
  t.deepEqual(canaryMetricLines({ steps: [{ step: 'watch', verdict: 'passed' }] }), []);
  t.deepEqual(canaryMetricLines(undefined), []);
});

const input = {
  cluster: 'web-prod',
  amiId: 'ami-0123456789abcdef0',
  region: 'us-east-1',
  ledger: { bucket: 'my-deploy-ledger' },
};

test('a deploy that passed its canary: summaryDetail beside the summary line', async (t) => {
  const passed = {
    ...deployStage,
    run: async () => ({ cluster: 'web-prod', serverGroup: 'web-prod-v002', amiId: input.amiId, verification }),
  } as unknown as StageDefinition<unknown, unknown>;
  const run = await runStage(passed, [], { input });
  t.is(run.exitCode, 0, run.stderr);
  t.deepEqual(run.output.summaryDetail, LINES);
});

test('a deploy whose canary failed: summaryDetail beside its error; none without a canary', async (t) => {
  const failed = {
    ...deployStage,
    run: async () => {
      throw new OperationFailedError('VerificationFailed', 'web-prod-v002 failed its canary at 10%', { verification });
    },
  } as unknown as StageDefinition<unknown, unknown>;
  const run = await runStage(failed, [], { input });
  t.is(run.exitCode, 1, run.stderr);
  t.is(run.output.error.code, 'VerificationFailed');
  t.deepEqual(run.output.summaryDetail, LINES);
  const plain = {
    ...deployStage,
    run: async () => ({ cluster: 'web-prod', serverGroup: 'web-prod-v002', amiId: input.amiId }),
  } as unknown as StageDefinition<unknown, unknown>;
  const none = await runStage(plain, [], { input });
  t.is(none.exitCode, 0, none.stderr);
  t.false('summaryDetail' in none.output);
});
