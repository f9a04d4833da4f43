#!/usr/bin/env node
import { runCli } from './stages/cli-runner';
import { stageCommand } from './stages/framework';
import { deployStage } from './stages/deploy';
import { historyStage } from './stages/history';
import { publishStage } from './stages/publish';
import { statusStage } from './stages/status';

// Commands are registered one by one (no commandDir: it breaks bundling).
void runCli([stageCommand(publishStage), stageCommand(statusStage), stageCommand(deployStage), stageCommand(historyStage)]);
