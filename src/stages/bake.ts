import {
  ec2AmiSharer,
  ec2LiteralTagger,
  renderBuild,
  resolveBakeOptions,
  runPacker,
  type BakeResult,
  type ResolvedBake,
} from '../bake';
import { defineStage } from './framework';
import { definedOnly } from './inputs/declare';
import { BAKE_STAGE } from './list';

/** Output of `bake`: the AMI(s), plus `failure` when Packer failed after making the AMI. */
export type BakeOutput = BakeResult;

/** `bake`: render a Packer build and run it; outputs the AMI(s). */
export const bakeStage = defineStage(BAKE_STAGE, {
  // Bake's resolver checks the options together (the credentials' lifetime included) and names the field at fault.
  validate: (inputs, region): ResolvedBake => resolveBakeOptions(definedOnly({ ...inputs, region })),
  async run(bake, { aws, log }): Promise<BakeOutput> {
    const build = await renderBuild(bake);
    log.info(
      `rendered ${build.bake.template} template for Packer ${build.packerVersion.text} in ${build.dir}; AMI ${build.bake.amiName}`,
    );
    const packerLog = log.child('packer');
    const result = await runPacker(build, {
      onLog: (line) => packerLog.info(line),
      timeoutMs: bake.timeoutMinutes * 60_000,
      applyLiteralTags: ec2LiteralTagger({ clientFor: (region) => aws().forRegion(region).ec2 }),
      shareAmi: ec2AmiSharer({ clientFor: (region) => aws().forRegion(region).ec2 }),
    });
    const copies = Object.entries(result.amis).filter(([r]) => r !== result.region);
    log.info(
      `AMI ${result.amiId} (${result.amiName}) in ${result.region}${copies.length > 0 ? `; copies: ${copies.map(([r, a]) => `${r} ${a}`).join(', ')}` : ''}`,
    );
    if (result.failure !== undefined) log.error(result.failure.message);
    return result;
  },
});
