import { runStandalone } from '../stages/cli-runner';
import { abortStage } from '../stages/promote';

void runStandalone(abortStage);
