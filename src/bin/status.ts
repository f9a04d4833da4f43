import { runStandalone } from '../stages/cli-runner';
import { statusStage } from '../stages/status';

void runStandalone(statusStage);
