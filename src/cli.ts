#!/usr/bin/env node
import { runCli } from './stages/cli-runner';
import { stageCommand, type StageDefinition } from './stages/framework';
import { STAGES } from './stages/list';
import { bakeStage } from './stages/bake';
import { cleanupStage } from './stages/cleanup';
import { deployStage } from './stages/deploy';
import { historyStage } from './stages/history';
import { abortStage, promoteStage } from './stages/promote';
import { publishStage } from './stages/publish';
import { rollbackStage } from './stages/rollback';
import { statusStage } from './stages/status';
import { sandboxCommand } from './sandbox/command';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any stage, whatever its input type
const definitions: ReadonlyArray<StageDefinition<any, any, any>> = [
  abortStage,
  bakeStage,
  cleanupStage,
  deployStage,
  historyStage,
  promoteStage,
  publishStage,
  rollbackStage,
  statusStage,
];

/** The definition of each stage of STAGES, in its order; a stage left out here is a bug, found at start. */
function definitionOf(name: string): (typeof definitions)[number] {
  const found = definitions.find((stage) => stage.name === name);
  if (!found) throw new Error(`bluegreen: stage ${name} is in STAGES but has no definition in src/cli.ts`);
  return found;
}

// Commands are registered one by one (no commandDir: it breaks bundling).
void runCli([...STAGES.map((entry) => stageCommand(definitionOf(entry.name))), sandboxCommand]);
