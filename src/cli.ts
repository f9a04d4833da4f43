#!/usr/bin/env node
import { runCli } from './stages/cli-runner';
import { stageCommand } from './stages/framework';
import { bakeStage } from './stages/bake';
import { cleanupStage } from './stages/cleanup';
import { deployStage } from './stages/deploy';
import { historyStage } from './stages/history';
import { publishStage } from './stages/publish';
import { statusStage } from './stages/status';
import { sandboxCommand } from './sandbox/command';

// Commands are registered one by one (no commandDir: it breaks bundling).
void runCli([
  stageCommand(statusStage),
  stageCommand(publishStage),
  stageCommand(bakeStage),
  stageCommand(deployStage),
  stageCommand(historyStage),
  stageCommand(cleanupStage),
  sandboxCommand,
]);
