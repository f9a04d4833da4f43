import { runJUnitReport } from '../stages/junit-report';
import { deployStageChecks } from '../stages/junit-rollout';

process.exitCode = runJUnitReport(process.argv.slice(2), deployStageChecks);
