import { runStandalone } from '../stages/cli-runner';
import { historyStage } from '../stages/history';

void runStandalone(historyStage);
