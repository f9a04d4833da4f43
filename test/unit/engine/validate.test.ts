import test from 'ava';
import {
  checkBoolean,
  checkInteger,
  checkKnownKeys,
  checkObject,
  checkPattern,
  checkRegion,
  checkString,
  checkStringList,
  checkTags,
  optionalString,
} from '../../../src/core/validate';
import { fieldOf } from './helpers';

test('regions: commercial, GovCloud, ISO and two-digit numbers; anything else names the field', (t) => {
  for (const region of [
    'us-east-1',
    'eu-west-3',
    'ap-southeast-5',
    'us-gov-west-1',
    'us-isob-east-1',
    'cn-north-1',
    'me-central-12',
  ]) {
    t.is(checkRegion('region', region), region);
  }
  for (const bad of ['mars-1', 'US-EAST-1', 'us-east', 'useast1', '', 7, null])
    t.is(
      fieldOf(() => checkRegion('region', bad)),
      'region',
      JSON.stringify(bad),
    );
});

test('strings, integers and booleans take the forms flags arrive in', (t) => {
  t.is(checkString('amiId', 'ami-1'), 'ami-1');
  t.is(
    fieldOf(() => checkString('amiId', '  ')),
    'amiId',
  );
  t.is(
    fieldOf(() => checkString('amiId', 5)),
    'amiId',
  );
  t.is(optionalString('version', undefined), undefined);
  t.is(optionalString('version', null), undefined);
  t.is(checkInteger('keepPrevious', '3', 0, 10), 3);
  t.is(checkInteger('keepPrevious', 0, 0, 10), 0);
  for (const bad of ['3.5', 3.5, -1, 11, 'three', true])
    t.is(
      fieldOf(() => checkInteger('keepPrevious', bad, 0, 10)),
      'keepPrevious',
      JSON.stringify(bad),
    );
  t.true(checkBoolean('plan', 'true'));
  t.false(checkBoolean('plan', false));
  t.is(
    fieldOf(() => checkBoolean('plan', 'yes')),
    'plan',
  );
  t.is(checkPattern('amiId', 'ami-12345678', /^ami-[0-9a-f]{8}$/, 'ami-…'), 'ami-12345678');
  t.is(
    fieldOf(() => checkPattern('amiId', 'ami-XYZ', /^ami-[0-9a-f]{8}$/, 'ami-…')),
    'amiId',
  );
});

test('lists and objects: comma-separated lists, items named by index, unknown keys named', (t) => {
  t.deepEqual(checkStringList('subnets', 'subnet-a, subnet-b,'), ['subnet-a', 'subnet-b']);
  t.deepEqual(checkStringList('subnets', ['subnet-a']), ['subnet-a']);
  t.is(
    fieldOf(() => checkStringList('subnets', ['subnet-a', ''])),
    'subnets[1]',
  );
  t.is(
    fieldOf(() => checkStringList('subnets', 5)),
    'subnets',
  );
  t.deepEqual(checkObject('capacity', { min: 1 }), { min: 1 });
  for (const bad of [null, [], 'x'])
    t.is(
      fieldOf(() => checkObject('capacity', bad)),
      'capacity',
    );
  t.is(
    fieldOf(() => checkKnownKeys('capacity', { min: 1, mx: 2 }, ['min', 'max', 'desired'])),
    'capacity.mx',
  );
  t.is(
    fieldOf(() => checkKnownKeys('', { amiID: 'x' }, ['amiId'])),
    'amiID',
  );
});

test('tags: AWS limits and no aws: prefix, each named by its key', (t) => {
  t.deepEqual(checkTags('tags', { team: 'web', empty: '' }), { team: 'web', empty: '' });
  t.is(
    fieldOf(() => checkTags('tags', { 'aws:owner': 'x' })),
    'tags.aws:owner',
  );
  t.is(
    fieldOf(() => checkTags('tags', { 'AWS:owner': 'x' })),
    'tags.AWS:owner',
  );
  t.is(
    fieldOf(() => checkTags('tags', { team: 5 })),
    'tags.team',
  );
  t.is(
    fieldOf(() => checkTags('tags', { team: 'x'.repeat(257) })),
    'tags.team',
  );
  t.is(
    fieldOf(() => checkTags('tags', { ['k'.repeat(129)]: 'x' })),
    `tags.${'k'.repeat(129)}`,
  );
});
