import test from 'ava';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../../src/core/errors';
import { escapeGoTemplate, hclString } from '../../src/bake/escape';
import { VAR_FILE } from '../../src/bake/render';
import type { BakeOptions } from '../../src/bake/types';
import { FIXTURES, renderFrom, tempDir } from './helpers';

/** Values that break naive rendering: HCL quotes/escapes/templates, Go templates, newlines. */
const NASTY = [
  'quote " here',
  'back\\slash \\n not a newline',
  'dollar ${x}',
  'percent %{y}',
  'braces {{z}} and {{ .Path }}',
  'escaped already $${w} %%{v} {{"{{"}}',
  'multi\nline',
  "single ' quote",
  'tab\there',
  'triple {{{ brace }}}',
];
/** Packer renders environment values until they stop changing: "{{" cannot pass there (input error instead). */
const ONE_ENV = NASTY.filter((v) => !v.includes('{{')).join(' | ');

test('hclString escapes quotes, backslashes, control characters and both template sequences', (t) => {
  t.is(hclString('a"b\\c\nd\te'), '"a\\"b\\\\c\\nd\\te"');
  t.is(hclString('${x} %{y} $${z}'), '"$${x} %%{y} $$${z}"');
  t.is(hclString('\u0001\u007f'), '"\\u0001\\u007f"');
  t.is(escapeGoTemplate('{{x}} {{{'), '{{"{{"}}x}} {{"{{"}}{');
});

test('nasty values come out literally in the rendered template and the var file', async (t) => {
  const tmp = await tempDir();
  t.teardown(tmp.remove);
  const build = await renderFrom(
    {
      app: 'shop',
      version: '1.0.0',
      region: 'us-east-1',
      sourceAmi: { id: 'ami-0123456789abcdef0' },
      artifactUrl: `s3://bucket/${ONE_ENV}`,
      allowedCidrs: ['10.0.0.0/8'],
      tags: { Weird: 'x ${y} %{z} "q" \\ \n end' },
      steps: [{ inline: NASTY }],
      outDir: tmp.dir,
    },
    { packerVersion: '1.6.6', env: {} },
  );
  // Step lines go to a script file, byte for byte (Packer never renders a script's content).
  t.is(
    await fs.readFile(path.join(build.dir, 'files/steps/0-inline.sh'), 'utf8'),
    `#!/bin/sh\nset -e\n${NASTY.join('\n')}\n`,
  );
  t.regex(
    await fs.readFile(path.join(build.dir, 'build.pkr.hcl'), 'utf8'),
    /scripts += \["files\/steps\/0-inline\.sh"\]/,
  );
  const vars = JSON.parse(await fs.readFile(path.join(build.dir, VAR_FILE), 'utf8')) as Record<string, unknown>;
  t.is(vars['artifact_url'], `s3://bucket/${ONE_ENV}`);
  t.is((vars['ami_tags'] as Record<string, string>)['Weird'], 'x ${y} %{z} "q" \\ \n end');
  const validate = spawnSync('packer', ['validate', '.'], { cwd: build.dir, encoding: 'utf8' });
  t.is(validate.status, 0, validate.stdout);
});

test('what Packer receives: a real packer build hands the exact bytes to a provisioner', async (t) => {
  const tmp = await tempDir();
  t.teardown(tmp.remove);
  const out = path.join(tmp.dir, 'out');
  const options: BakeOptions = {
    templatePath: path.join(FIXTURES, 'templates', 'shell-local-proof.pkr.hcl.hbs'),
    app: 'shop',
    version: '1.0.0',
    region: 'us-east-1',
    sourceAmi: { id: 'ami-0123456789abcdef0' },
    artifactUrl: `s3://bucket/${ONE_ENV}`,
    allowedCidrs: ['10.0.0.0/8'],
    tags: { Weird: 'x ${y} %{z} "q" \\ \n end' },
    // A quoted heredoc: the shell writes the lines between the markers as is.
    steps: [
      {
        inline: [
          "cat > received-inline.txt <<'BLUEGREEN_EOF'",
          ...NASTY,
          'BLUEGREEN_EOF',
          'printf %s "$ARTIFACT_URL" > received-artifact-url.txt',
          'printf %s "$TAG_WEIRD" > received-tag.txt',
        ],
      },
    ],
    outDir: out,
  };
  const build = await renderFrom(options, { packerVersion: '1.6.6', env: {} });
  const run = spawnSync('packer', ['build', '-color=false', '.'], {
    cwd: build.dir,
    encoding: 'utf8',
    env: { ...process.env, CHECKPOINT_DISABLE: '1' },
  });
  t.is(run.status, 0, run.stdout + run.stderr);
  t.is(await fs.readFile(path.join(out, 'received-inline.txt'), 'utf8'), NASTY.join('\n') + '\n');
  t.is(await fs.readFile(path.join(out, 'received-artifact-url.txt'), 'utf8'), `s3://bucket/${ONE_ENV}`);
  t.is(await fs.readFile(path.join(out, 'received-tag.txt'), 'utf8'), 'x ${y} %{z} "q" \\ \n end');
});

test('"{{" where Packer renders until nothing changes (environment values) is refused, naming the field', async (t) => {
  const base: BakeOptions = {
    app: 'a',
    version: '1',
    region: 'us-east-1',
    sourceAmi: { id: 'ami-0123456789abcdef0' },
    allowedCidrs: ['10.0.0.0/8'],
  };
  const e1 = await t.throwsAsync(
    renderFrom({ ...base, artifactUrl: 's3://b/{{x}}' }, { packerVersion: '1.6.6', env: {} }),
    { instanceOf: InputError },
  );
  t.is(e1?.field, 'artifactUrl');
  const e2 = await t.throwsAsync(
    renderFrom({ ...base, steps: [{ inline: ['true'], env: { K: '{{x}}' } }] }, { packerVersion: '1.6.6', env: {} }),
    { instanceOf: InputError },
  );
  t.is(e2?.field, 'steps.0.env.K');
});
