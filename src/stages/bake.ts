import { InputError, OperationFailedError } from '../core/errors';
import { awsClients } from '../aws/clients';
import {
  BakeInputError,
  PackerBuildError,
  PackerCommandError,
  PackerNotFoundError,
  ec2LiteralTagger,
  renderBuild,
  resolveBakeOptions,
  runPacker,
  type BakeOptions,
  type BakeResult,
} from '../bake';
import { defineStage } from './framework';
import { definedOnly } from './inputs/declare';
import { BAKE_INPUTS } from './inputs/bake';

/** Output of `bake`: the AMI(s), plus `failure` when Packer failed after making the AMI. */
export type BakeOutput = BakeResult;

interface BakeInput {
  options: BakeOptions;
  timeoutMinutes: number;
}

function asInputError(error: unknown): never {
  if (error instanceof BakeInputError) throw new InputError(error.field, error.message.slice(error.field.length + 2));
  throw error;
}

/** `bake`: render a Packer build and run it; outputs the AMI(s). */
export const bakeStage = defineStage({
  name: 'bake',
  describe: 'Bake an AMI with Packer (built-in linux/windows templates or your own), copy it, tag it',
  inputs: BAKE_INPUTS,
  validate(inputs, region): BakeInput {
    const { timeoutMinutes, ...rest } = inputs;
    // Bake's resolver checks the options together and names the field at fault.
    const options = definedOnly({ ...rest, region }) as unknown as BakeOptions;
    try {
      resolveBakeOptions(options); // every check before anything runs
    } catch (error) {
      asInputError(error);
    }
    return { options, timeoutMinutes };
  },
  async run(input, { log }): Promise<BakeOutput> {
    try {
      const build = await renderBuild(input.options).catch(asInputError);
      log.info(`rendered ${build.bake.template} template for Packer ${build.packerVersion.text} in ${build.dir}; AMI ${build.bake.amiName}`);
      const packerLog = log.child('packer');
      const result = await runPacker(build, {
        onLog: (line) => packerLog.info(line),
        timeoutMs: input.timeoutMinutes * 60_000,
        applyLiteralTags: ec2LiteralTagger({ clientFor: (region) => awsClients(region).ec2 }),
      });
      const copies = Object.entries(result.amis).filter(([r]) => r !== result.region);
      log.info(`AMI ${result.amiId} (${result.amiName}) in ${result.region}${copies.length > 0 ? `; copies: ${copies.map(([r, a]) => `${r} ${a}`).join(', ')}` : ''}`);
      if (result.failure !== undefined) log.error(result.failure.message);
      return result;
    } catch (error) {
      // Packer missing or the template invalid: nothing was built (exit 2).
      if (error instanceof PackerNotFoundError) throw new InputError('packer', error.message);
      if (error instanceof PackerCommandError) throw new InputError('template', error.message);
      if (error instanceof PackerBuildError) throw new OperationFailedError(error.reason === 'failed' ? 'BakeFailed' : error.reason === 'timeout' ? 'BakeTimedOut' : 'BakeInterrupted', error.message, { errors: error.errors });
      throw error;
    }
  },
  exitCodeFor: (output) => (output.failure === undefined ? 0 : 1),
});
