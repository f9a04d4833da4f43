import test from 'ava';
import { parseSteps, stepCount } from '../../../src/deploy/rolling';

test('steps: ascending whole percentages ending at 100, from a list or a comma list', (t) => {
  t.deepEqual(parseSteps([25, 50, 100]), [25, 50, 100]);
  t.deepEqual(parseSteps('25,50,100'), [25, 50, 100]);
  t.deepEqual(parseSteps(['10', '100']), [10, 100]);
  t.throws(() => parseSteps([50, 25, 100]), { message: 'steps: must be ascending (got 50, 25, 100)' });
  t.throws(() => parseSteps([25, 50]), { message: 'steps: must end at 100 (got 25, 50)' });
  t.throws(() => parseSteps([0, 100]), { message: /^steps\[0\]: must be a whole percentage from 1 to 100/ });
  t.throws(() => parseSteps([]), { message: /^steps: must be a list/ });
});

test('a step is at least one instance and never more than all', (t) => {
  t.is(stepCount(4, 25), 1);
  t.is(stepCount(2, 25), 1);
  t.is(stepCount(10, 33), 4);
  t.is(stepCount(3, 100), 3);
});
