import test from 'ava';
import { nextAction, Phase, UNFINISHED_PHASES } from '../../../src/cluster/phases';
import { redBlack } from '../../../src/deploy/strategies/red-black';
import { strategyFor } from '../../../src/deploy/strategies';
import { firstStep } from '../../../src/deploy/strategies/rolling';
import { parseCanaryAnalysis } from '../../../src/verify/canary-settings';
import { group } from './helpers';

test('phase → next action: removed before traffic, disabled again, rolled back or finished after', (t) => {
  t.is(nextAction(Phase.creating), 'remove');
  t.is(nextAction(Phase.waitingHealthy), 'remove');
  t.is(nextAction(Phase.testing), 'remove', 'a crash while beforeTraffic ran: it never was in production');
  t.is(nextAction(Phase.reenabling), 'disable-again');
  t.is(nextAction(Phase.cutover), 'finish');
  t.is(nextAction(Phase.finishing), 'finish');
  // A deploy's interrupted watch has no verdict, so it is not passed; a rollback's is finished.
  t.is(nextAction(Phase.watching), 'roll-back');
  t.is(nextAction(Phase.watching, 'deploy'), 'roll-back');
  t.is(nextAction(Phase.watching, 'rollback'), 'finish');
});

test('phase → next action: a settled group, or none, needs nothing; every unfinished phase has an action', (t) => {
  t.is(nextAction(Phase.done), undefined);
  t.is(nextAction(Phase.held), undefined, 'a held group waits for a human: no run settles it on its own');
  t.false(UNFINISHED_PHASES.has(Phase.held));
  t.is(nextAction(undefined), undefined);
  t.is(nextAction('something-else'), undefined);
  for (const phase of UNFINISHED_PHASES) t.not(nextAction(phase), undefined, phase);
});

const plan = { capacity: { min: 2, max: 8, desired: 4 } };
const prepared = { watchSeconds: 60 } as never;

test('strategy: rolling needs a group to roll from and a watch, else red/black', (t) => {
  const rolling = { steps: [25, 100], stepWatchSeconds: 30 };
  const source = group('web-prod-v001');
  t.is(strategyFor({ rolling }, { source }, prepared).name, 'rolling');
  t.is(strategyFor({ rolling }, { source: undefined }, prepared), redBlack);
  t.is(strategyFor({ rolling }, { source }, undefined), redBlack);
  t.is(strategyFor({}, { source }, prepared), redBlack);
});

test('strategy: red/black starts the new group at full size, rolling at its first step (min pinned to it)', (t) => {
  t.deepEqual(redBlack.initialCapacity(plan as never), plan.capacity);
  t.deepEqual(firstStep(plan.capacity, [25, 50, 100]), { min: 1, max: 8, desired: 1 });
  const rolling = strategyFor(
    { rolling: { steps: [50, 100], stepWatchSeconds: 1 } },
    { source: group('a-v001') },
    prepared,
  );
  t.deepEqual(rolling.initialCapacity(plan as never), { min: 2, max: 8, desired: 2 });
});

test('canary: an interrupted canary is ended (listeners back, group removed), whatever watched it', (t) => {
  t.is(nextAction('canary'), 'end-canary');
  t.is(nextAction('canary', 'rollback'), 'end-canary');
});

test('strategy: canary needs no watch (it compares with the production target group), starts at full size and places its group', (t) => {
  const canary = { steps: [10, 100], stepWatchSeconds: 30, analysis: parseCanaryAnalysis(undefined) };
  const chosen = strategyFor({ canary }, { source: group('web-prod-v001') }, undefined);
  t.is(chosen.name, 'canary');
  t.deepEqual(chosen.initialCapacity(plan as never), plan.capacity);
  t.is(typeof chosen.placement, 'function');
  t.is(redBlack.placement, undefined, 'red/black creates its group in the production target groups');
});
