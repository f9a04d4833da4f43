#!/usr/bin/env node
import { runCli } from './stages/cli-runner';
import { stageCommand } from './stages/framework';
import { statusStage } from './stages/status';
import { bakeStage } from './stages/bake';

// Commands are registered one by one (no commandDir: it breaks bundling).
void runCli([stageCommand(statusStage), stageCommand(bakeStage)]);
