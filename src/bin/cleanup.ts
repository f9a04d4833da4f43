import { runStandalone } from '../stages/cli-runner';
import { cleanupStage } from '../stages/cleanup';

void runStandalone(cleanupStage);
