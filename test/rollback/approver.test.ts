import test from 'ava';
import { InputError } from '../../src/core/errors';
import { parseRollbackRequest } from '../../src/rollback/request';

const BASE = { cluster: 'web-prod', ledger: { bucket: 'my-deploy-ledger' } };

test('approvedBy is taken trimmed, and left out when not given', (t) => {
  t.is(parseRollbackRequest({ ...BASE, approvedBy: '  alice  ' }, 'us-east-1').approvedBy, 'alice');
  t.false('approvedBy' in parseRollbackRequest(BASE, 'us-east-1'));
});

test('approvedBy must be one short line', (t) => {
  for (const bad of ['alice\nbob', 'x'.repeat(201)]) {
    const error = t.throws(() => parseRollbackRequest({ ...BASE, approvedBy: bad }, 'us-east-1'), { instanceOf: InputError });
    t.is(error?.field, 'approvedBy');
  }
});
