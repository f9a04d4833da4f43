import test from 'ava';
import { InputError } from '../../src/core/errors';
import { parseStageInput } from '../../src/stages/framework';
import { rollbackStage } from '../../src/stages/rollback';

const BASE = { region: 'us-east-1', cluster: 'web-prod', ledger: { bucket: 'my-deploy-ledger' } };
const parse = (given: Record<string, unknown>) => parseStageInput(rollbackStage, given).input;

test('approvedBy is taken trimmed, and left out when not given', (t) => {
  t.is(parse({ ...BASE, approvedBy: '  alice  ' }).approvedBy, 'alice');
  t.false('approvedBy' in parse(BASE));
});

test('approvedBy must be one short line', (t) => {
  for (const bad of ['alice\nbob', 'x'.repeat(201)]) {
    const error = t.throws(() => parse({ ...BASE, approvedBy: bad }), { instanceOf: InputError });
    t.is(error?.field, 'approvedBy');
  }
});
