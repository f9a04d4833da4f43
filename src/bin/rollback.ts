import { runStandalone } from '../stages/cli-runner';
import { rollbackStage } from '../stages/rollback';

void runStandalone(rollbackStage);
