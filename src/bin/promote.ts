import { runStandalone } from '../stages/cli-runner';
import { promoteStage } from '../stages/promote';

void runStandalone(promoteStage);
