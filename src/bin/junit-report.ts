import { runJUnitReport } from '../stages/junit-report';

process.exitCode = runJUnitReport(process.argv.slice(2));
