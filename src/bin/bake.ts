import { runStandalone } from '../stages/cli-runner';
import { bakeStage } from '../stages/bake';

void runStandalone(bakeStage);
