import test from 'ava';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { renderBuild } from '../../src/bake/render';
import { resolveBakeOptions } from '../../src/bake/resolve';
import type { BakeOptions } from '../../src/bake/types';
import { FIXTURES, tempDir } from './helpers';

/**
 * The built-in Linux template's elevated steps, run by Packer itself: each
 * `provisioner "shell"` with an `execute_command` of the rendered template is
 * moved, with its `environment_vars` and its command text unchanged, into a
 * `shell-local` provisioner of a `null` build (same `.Vars` rendering:
 * `KEY='value' ` with `'` escaped, Packer 1.6.6's shell and shell-local alike;
 * the SSH communicator hands the command to the remote shell as `sh -c` does).
 * Only `.Path` is spelled `.Script` there, and `sudo`, absent here, is a
 * stand-in that runs its command (dropping `-E`), as sudo does for root.
 */

/** Values a real bake gets: JVM options, a shell-hostile version-like value, quotes, substitutions, a newline. */
const HOSTILE: Record<string, string> = {
  JAVA_OPTS: '-Xmx1g -Xms1g',
  SEMICOLON: '1.0;touch PWNED_SEMICOLON',
  AMPERSAND: 'a&touch PWNED_AMPERSAND&b',
  SINGLE_QUOTE: "it's 'quoted'",
  DOUBLE_QUOTE: 'say "hi"',
  SUBSTITUTION: '$(touch PWNED_SUBSTITUTION) `touch PWNED_BACKTICK` ${HOME}',
  NEWLINE: 'line one\ntouch PWNED_NEWLINE',
};
/** A presigned URL: splits at `&` when unquoted. */
const ARTIFACT_URL =
  "https://bucket.s3.amazonaws.com/app.tgz?X-Amz-Credential=AKIA%2F20250101&X-Amz-Signature=abc;touch PWNED_URL&x=$(touch PWNED_URL2)'";

const SUDO_STANDIN = `#!/bin/sh
# sudo of the build instance: run the command as given (here as the same user).
if [ "$1" = "-E" ]; then shift; fi
exec "$@"
`;

interface Elevated {
  environmentVars: string;
  executeCommand: string;
}

/** The elevated `provisioner "shell"` blocks of a rendered template, as HCL text. */
function elevatedProvisioners(hcl: string): Elevated[] {
  const blocks = [...hcl.matchAll(/^ {2}provisioner "shell" \{\n([\s\S]*?)\n {2}\}$/gm)].map((m) => m[1] as string);
  return blocks.flatMap((block) => {
    const command = /^ {4}execute_command\s*=\s*(".*")$/m.exec(block)?.[1];
    if (command === undefined) return [];
    const env = /^ {4}environment_vars\s*=\s*(.*)$/m.exec(block)?.[1] ?? '[]';
    return [{ environmentVars: env, executeCommand: command }];
  });
}

/** What each probe writes: one file per variable, byte for byte, and a marker that it ran. */
function probeScript(dir: string, names: string[]): string {
  return [
    '#!/bin/sh',
    'set -e',
    `mkdir -p '${dir}'`,
    ...names.map((n) => `printf '%s' "$${n}" > '${dir}/${n}'`),
    `touch '${dir}/ran'`,
    '',
  ].join('\n');
}

test('elevated Linux steps get every value byte-exact and run none of it (real packer build)', async (t) => {
  const tmp = await tempDir();
  t.teardown(tmp.remove);
  const options: BakeOptions = {
    app: 'shop',
    version: '1.2.3',
    region: 'us-east-1',
    sourceAmi: { id: 'ami-0123456789abcdef0' },
    artifactUrl: ARTIFACT_URL,
    allowedCidrs: ['10.0.0.0/8'],
    steps: [{ inline: ['true'], env: HOSTILE }],
    chef: { cookbooksPath: 'cookbooks', runList: ['recipe[app::default]'] },
    repoDir: path.join(FIXTURES, 'repo'),
    outDir: path.join(tmp.dir, 'build'),
  };
  const build = await renderBuild(resolveBakeOptions(options, {}), { packerVersion: '1.6.6', env: {} });
  const elevated = elevatedProvisioners(await fs.readFile(path.join(build.dir, 'build.pkr.hcl'), 'utf8'));
  // fetch-artifact, the step, chef-solo, the chef clean-up.
  t.is(elevated.length, 4);

  const names = ['ARTIFACT_URL', 'APP_NAME', 'APP_VERSION', ...Object.keys(HOSTILE)];
  const provisioners: string[] = [];
  for (const [i, p] of elevated.entries()) {
    await fs.writeFile(
      path.join(build.dir, `probe-${i}.sh`),
      probeScript(path.join(tmp.dir, 'got', String(i)), names),
      { mode: 0o755 },
    );
    provisioners.push(`  provisioner "shell-local" {
    script           = "probe-${i}.sh"
    environment_vars = ${p.environmentVars}
    execute_command  = ["/bin/sh", "-c", ${p.executeCommand.replaceAll('.Path', '.Script')}]
  }`);
  }
  // The same variables and values (var file, declarations); a null source instead of amazon-ebs.
  await fs.writeFile(
    path.join(build.dir, 'build.pkr.hcl'),
    `source "null" "probe" {\n  communicator = "none"\n}\n\nbuild {\n  sources = ["source.null.probe"]\n${provisioners.join('\n')}\n}\n`,
  );
  const bin = path.join(tmp.dir, 'bin');
  await fs.mkdir(bin);
  await fs.writeFile(path.join(bin, 'sudo'), SUDO_STANDIN, { mode: 0o755 });

  const run = spawnSync('packer', ['build', '-color=false', '.'], {
    cwd: build.dir,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, CHECKPOINT_DISABLE: '1', PATH: `${bin}:${process.env.PATH ?? ''}` },
  });
  t.is(run.status, 0, run.stdout + run.stderr);

  const expected: Record<string, string> = { ARTIFACT_URL, APP_NAME: 'shop', APP_VERSION: '1.2.3', ...HOSTILE };
  const read = (file: string) => fs.readFile(file, 'utf8').catch(() => '<missing>');
  // The step gets its own variables; every elevated step gets the artifact URL or the app's.
  const step = path.join(tmp.dir, 'got', '1');
  t.is(await read(path.join(step, 'ran')), '', 'the step ran');
  for (const name of names.filter((n) => n !== 'ARTIFACT_URL'))
    t.is(await read(path.join(step, name)), expected[name] ?? '', name);
  const fetch = path.join(tmp.dir, 'got', '0');
  t.is(await read(path.join(fetch, 'ARTIFACT_URL')), ARTIFACT_URL);
  for (const i of [2, 3])
    t.is(await read(path.join(tmp.dir, 'got', String(i), 'ran')), '', `chef provisioner ${i} ran`);

  // Nothing in a value was executed, wherever it would have landed.
  const pwned = [tmp.dir, build.dir, process.cwd()].flatMap((d) =>
    spawnSync('find', [d, '-maxdepth', '3', '-name', 'PWNED_*'], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter(Boolean),
  );
  t.deepEqual(pwned, []);
});
