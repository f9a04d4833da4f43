import { runStandalone } from '../stages/cli-runner';
import { deployStage } from '../stages/deploy';

void runStandalone(deployStage);
