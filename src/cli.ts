#!/usr/bin/env node
import { runCli } from './stages/cli-runner';
import { stageCommand } from './stages/framework';
import { publishStage } from './stages/publish';
import { statusStage } from './stages/status';

// Commands are registered one by one (no commandDir: it breaks bundling).
void runCli([stageCommand(publishStage), stageCommand(statusStage)]);
