import { runStandalone } from '../stages/cli-runner';
import { publishStage } from '../stages/publish';

void runStandalone(publishStage);
