import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stageOptions } from '../../../src/stages/framework';
import { defaultOf, yargsOption } from '../../../src/stages/inputs/declare';
import { STAGE_INPUTS } from '../../../src/stages/inputs/index';
import { LOCK_INPUTS } from '../../../src/stages/inputs/shared';
import { DEFAULT_LEASE_SECONDS } from '../../../src/ledger/lock';
import { flagInputs, mergeInputs } from '../../../src/stages/resolve-input';

test('every declared default parses (a default is a value like any given one)', (t) => {
  for (const [stage, inputs] of Object.entries(STAGE_INPUTS)) {
    for (const [name, spec] of Object.entries(inputs)) {
      if (spec.default !== undefined) t.notThrows(() => spec.parse(spec.default, name), `${stage}.${name}`);
    }
  }
});

test("the lock lease has one default, the lock module's", (t) => {
  t.is(LOCK_INPUTS.lockLease.parse(LOCK_INPUTS.lockLease.default, 'lockLease'), DEFAULT_LEASE_SECONDS);
  t.is(defaultOf(LOCK_INPUTS.lockLease), `${DEFAULT_LEASE_SECONDS}s`);
});

test('yargs options derive from the kinds: lists are string arrays, durations strings, objects untyped', (t) => {
  const deploy = STAGE_INPUTS.deploy ?? {};
  t.like(yargsOption(deploy.subnets!), { type: 'array', string: true });
  t.like(yargsOption(deploy.healthTimeout!), { type: 'string' });
  t.is(yargsOption(deploy.capacity!).type, undefined);
  t.regex(String(yargsOption(deploy.healthTimeout!).describe), /\(default 10m\)$/);
  const bake = stageOptions(STAGE_INPUTS.bake ?? {});
  t.like(bake['sourceAmi.filter.owners'], { type: 'array', string: true, hidden: true });
});

test('mergeInputs: later layers win, objects merge at any depth, lists are replaced', (t) => {
  t.deepEqual(
    mergeInputs(
      { a: 1, o: { x: 1, deep: { p: 1, q: 1 } }, list: [1, 2] },
      { o: { deep: { q: 2 } }, list: [3], b: undefined },
      { a: 3 },
    ),
    { a: 3, o: { x: 1, deep: { p: 1, q: 2 } }, list: [3] },
  );
});

test('flagInputs drops yargs keys and kebab twins, and makes lists at declared paths', (t) => {
  const argv = {
    _: [],
    $0: 'bake.js',
    output: 'o.json',
    'source-ami': {},
    sourceAmi: { filter: { owners: 'amazon, self' } },
    copyRegions: ['a,b', 'c'],
  };
  t.deepEqual(flagInputs(argv, STAGE_INPUTS.bake ?? {}), {
    sourceAmi: { filter: { owners: ['amazon', 'self'] } },
    copyRegions: ['a', 'b', 'c'],
  });
});

test("no second list of a stage's input keys anywhere in src/ (the declarations are the only one)", (t) => {
  const files = readdirSync(join(__dirname, '..', '..', '..', 'src'), { recursive: true, encoding: 'utf8' }).filter(
    (file) => file.endsWith('.ts'),
  );
  const found: string[] = [];
  for (const file of files) {
    const text = readFileSync(join(__dirname, '..', '..', '..', 'src', file), 'utf8');
    for (const match of text.matchAll(/\[\s*'\w+'(?:\s*,\s*'\w+')+\s*,?\s*\]/g)) {
      const names = [...match[0].matchAll(/'(\w+)'/g)].map((m) => m[1] as string);
      for (const [stage, inputs] of Object.entries(STAGE_INPUTS)) {
        // A list of three or more names, all inputs of one stage, is a second list of its keys.
        if (names.length >= 3 && names.every((name) => Object.hasOwn(inputs, name)))
          found.push(`${file}: ${stage} keys ${names.join(', ')}`);
      }
    }
  }
  t.deepEqual(found, []);
});
