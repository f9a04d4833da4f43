import test from 'ava';
import {
  formatClusterName,
  nextServerGroupName,
  parseClusterName,
  parseServerGroupName,
  resolveClusterName,
  serverGroupName,
} from '../../../src/core/naming';
import { fieldOf } from './helpers';

test('cluster names in the Frigga scheme: app[-stack[-detail]], app--detail without a stack', (t) => {
  t.is(formatClusterName('web'), 'web');
  t.is(formatClusterName('web', 'prod'), 'web-prod');
  t.is(formatClusterName('web', 'prod', 'canary'), 'web-prod-canary');
  t.is(formatClusterName('web', undefined, 'canary'), 'web--canary');
  t.deepEqual(parseClusterName('web-prod-canary-eu'), {
    app: 'web',
    stack: 'prod',
    detail: 'canary-eu',
    name: 'web-prod-canary-eu',
  });
  t.deepEqual(parseClusterName('web--canary'), { app: 'web', detail: 'canary', name: 'web--canary' });
  t.deepEqual(resolveClusterName({ app: 'web', stack: 'prod' }), { app: 'web', stack: 'prod', name: 'web-prod' });
  t.deepEqual(resolveClusterName({ cluster: 'web-prod' }), { app: 'web', stack: 'prod', name: 'web-prod' });
});

test('bad cluster names are refused on the field that was given', (t) => {
  t.is(
    fieldOf(() => resolveClusterName({})),
    'app',
  );
  t.is(
    fieldOf(() => resolveClusterName({ cluster: 'web-prod', app: 'web' })),
    'cluster',
  );
  t.is(
    fieldOf(() => resolveClusterName({ cluster: 'web prod' })),
    'cluster',
  );
  t.is(
    fieldOf(() => resolveClusterName({ cluster: 'web-prod-v003' })),
    'cluster',
    'a server group name is not a cluster name',
  );
  t.is(
    fieldOf(() => resolveClusterName({ cluster: '-prod' })),
    'cluster',
  );
  t.is(
    fieldOf(() => resolveClusterName({ app: 'web-x' })),
    'app',
    'the app holds no "-"',
  );
  t.is(
    fieldOf(() => resolveClusterName({ app: 'web', stack: 'a-b' })),
    'stack',
  );
  t.is(
    fieldOf(() => resolveClusterName({ app: 'web', detail: 'a b' })),
    'detail',
  );
  t.is(
    fieldOf(() => resolveClusterName({ app: 'w'.repeat(124) })),
    'app',
    'too long for a launch template name with -vNNN',
  );
  t.is(
    fieldOf(() => resolveClusterName({ app: 'w'.repeat(123) })),
    undefined,
  );
});

test('server group names: <cluster>-vNNN, parsed back, anything else is not one', (t) => {
  t.is(serverGroupName('web-prod', 7), 'web-prod-v007');
  t.is(serverGroupName('web-prod', 1003), 'web-prod-v003', 'numbers wrap at 1000');
  t.deepEqual(parseServerGroupName('web-prod-v007'), { cluster: 'web-prod', sequence: 7 });
  t.deepEqual(parseServerGroupName('web--canary-v120'), { cluster: 'web--canary', sequence: 120 });
  t.is(parseServerGroupName('web-prod'), undefined);
  t.is(parseServerGroupName('web-prod-v07'), undefined);
});

test('the next server group: newest + 1, wrapping, skipping names in use', (t) => {
  t.is(nextServerGroupName('web', undefined, new Set()), 'web-v000');
  t.is(nextServerGroupName('web', 4, new Set(['web-v004'])), 'web-v005');
  t.is(nextServerGroupName('web', 999, new Set(['web-v999'])), 'web-v000');
  t.is(nextServerGroupName('web', 3, new Set(['web-v004', 'web-v005'])), 'web-v006');
  const all = new Set(Array.from({ length: 1000 }, (_, i) => serverGroupName('web', i)));
  t.throws(() => nextServerGroupName('web', 0, all), { message: /all 1000 server group names in use/ });
});
