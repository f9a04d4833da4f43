import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deployChecks, renderJUnit, runJUnitReport, xmlText } from '../../src/stages/junit-report';

const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg/0123456789abcdef';
const SUCCEEDED = {
  cluster: 'web-prod',
  status: 'succeeded',
  serverGroup: 'web-prod-v004',
  previousServerGroup: 'web-prod-v003',
  targetGroups: [TG, 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api-tg/fedcba9876543210'],
  disabledServerGroups: ['web-prod-v003'],
  destroyedServerGroups: [],
};

test('a succeeded deploy: healthy in each target group, the old group drained and disabled', (t) => {
  t.deepEqual(deployChecks({ cluster: 'web-prod', exitCode: 0, output: SUCCEEDED }), [
    { name: 'web-prod-v004 healthy in target group web-tg' },
    { name: 'web-prod-v004 healthy in target group api-tg' },
    { name: 'web-prod-v003 drained and disabled' },
  ]);
});

test('a first deploy skips the drain check; an old group left enabled fails it', (t) => {
  const first = deployChecks({
    cluster: 'web-prod',
    exitCode: 0,
    output: { ...SUCCEEDED, previousServerGroup: null, disabledServerGroups: [] },
  });
  t.is(first[2]?.skipped, 'first deploy of web-prod: nothing to drain');
  const notDisabled = deployChecks({
    cluster: 'web-prod',
    exitCode: 0,
    output: { ...SUCCEEDED, disabledServerGroups: [] },
  });
  t.is(notDisabled[2]?.failure?.type, 'NotDisabled');
});

test('a watch verdict becomes a case: pass passes, anything else fails with its reason', (t) => {
  const passed = deployChecks({
    cluster: 'web-prod',
    exitCode: 0,
    output: { ...SUCCEEDED, watch: { verdict: 'pass' } },
  });
  t.deepEqual(passed.at(-1), { name: 'watch of web-prod-v004: pass' });
  const failed = deployChecks({
    cluster: 'web-prod',
    exitCode: 1,
    output: { ...SUCCEEDED, watch: { verdict: 'fail', reason: '5xx rate 4% > 1%' } },
  });
  t.deepEqual(failed.at(-1), {
    name: 'watch of web-prod-v004: fail',
    failure: { type: 'WatchFailed', message: '5xx rate 4% > 1%' },
  });
});

test('a failed deploy is one failed case with the stage error; no output says so', (t) => {
  const failed = deployChecks({
    cluster: 'web-prod',
    exitCode: 1,
    output: { error: { code: 'HealthTimeout', message: 'web-prod-v004 was not healthy within 600s; rolled back' } },
  });
  t.deepEqual(failed, [
    {
      name: 'deploy of web-prod',
      failure: { type: 'HealthTimeout', message: 'web-prod-v004 was not healthy within 600s; rolled back' },
    },
  ]);
  const none = deployChecks({ cluster: 'web-prod', exitCode: 137, output: undefined });
  t.is(none[0]?.failure?.type, 'exit 137');
  t.is(
    deployChecks({ cluster: 'web-prod', exitCode: 0, output: { ...SUCCEEDED, status: 'planned' } })[0]?.skipped,
    'plan only: nothing was deployed',
  );
});

test('the XML counts tests, failures and skips and escapes every value', (t) => {
  const xml = renderJUnit('bluegreen deploy web-prod', [
    { name: 'a <b> & "c"' },
    { name: 'f', failure: { type: 'T', message: "it's <bad>\u0001" } },
    { name: 's', skipped: 'why' },
  ]);
  t.true(
    xml.startsWith(
      '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="bluegreen deploy web-prod" tests="3" failures="1" errors="0" skipped="1">',
    ),
  );
  t.true(xml.includes('<testcase classname="bluegreen deploy web-prod" name="a &lt;b&gt; &amp; &quot;c&quot;"/>'));
  t.true(xml.includes('<failure type="T" message="it&apos;s &lt;bad&gt;"/>'));
  t.true(xml.includes('<skipped message="why"/>'));
  t.is(xmlText('\u0000ok\u001f'), 'ok');
});

test('the command writes the report from the deploy output file, or a failed case when there is none', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'junit-report-'));
  writeFileSync(join(dir, 'out.json'), JSON.stringify(SUCCEEDED));
  writeFileSync(
    join(dir, 'in.json'),
    JSON.stringify({ cluster: 'web-prod', exitCode: 0, outputFile: join(dir, 'out.json') }),
  );
  t.is(runJUnitReport(['--input', join(dir, 'in.json'), '--output', join(dir, 'r', 'report.xml')]), 0);
  t.regex(readFileSync(join(dir, 'r', 'report.xml'), 'utf8'), /tests="3" failures="0"/);

  writeFileSync(
    join(dir, 'in2.json'),
    JSON.stringify({ cluster: 'web-prod', exitCode: 1, outputFile: join(dir, 'missing.json') }),
  );
  t.is(runJUnitReport(['--input', join(dir, 'in2.json'), '--output', join(dir, 'r2.xml')]), 0);
  t.regex(readFileSync(join(dir, 'r2.xml'), 'utf8'), /failures="1"[^]*the deploy wrote no output \(exit 1\)/);

  writeFileSync(join(dir, 'bad.json'), '{"cluster": 1}');
  t.is(runJUnitReport(['--input', join(dir, 'bad.json'), '--output', join(dir, 'r3.xml')]), 2);
  t.false(existsSync(join(dir, 'r3.xml')));
});

test("a canary's analysed steps: one case per metric (failed fails with its reason, no data skipped), on success and on failure", (t) => {
  const analysis = {
    score: 0,
    verdict: 'fail',
    reason: 'score 0',
    metrics: [
      { name: 'errorRate', verdict: 'fail', reason: 'canary 0.5 vs baseline 0: higher' },
      { name: 'latencyP99', verdict: 'pass', reason: 'within tolerance' },
      { name: 'cpu', verdict: 'nodata', reason: 'not judged' },
    ],
  };
  const verification = { steps: [{ step: '10%', verdict: 'failed', analysis }] };
  const failed = deployChecks({
    cluster: 'web-prod',
    exitCode: 1,
    output: { error: { code: 'VerificationFailed', message: 'failed its canary', verification } },
  });
  t.deepEqual(failed.slice(1), [
    {
      name: 'canary 10% errorRate: fail',
      failure: { type: 'CanaryMetricFailed', message: 'canary 0.5 vs baseline 0: higher' },
    },
    { name: 'canary 10% latencyP99: pass' },
    { name: 'canary 10% cpu: nodata', skipped: 'not judged' },
  ]);
  const passed = deployChecks({ cluster: 'web-prod', exitCode: 0, output: { ...SUCCEEDED, verification } });
  t.is(passed.filter((c) => c.name.startsWith('canary 10%')).length, 3);
});
