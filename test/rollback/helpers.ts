import type { ExecutionContext } from 'ava';
import { loadCluster } from '../../src/cluster/server-groups';
import { createLogger, type Logger } from '../../src/core/log';
import type { DeployOutput } from '../../src/deploy/deploy';
import type { RollbackOutput } from '../../src/rollback/rollback';
import { startProbe, type ProbeReport } from '../../src/sandbox/probe';
import { deployStage } from '../../src/stages/deploy';
import { executeStage } from '../../src/stages/framework';
import { rollbackStage } from '../../src/stages/rollback';
import { startDeploySandbox, type DeploySandbox } from '../helpers/deploy-sandbox';

/**
 * The deploy tests' sandbox (demo infra, time ×0.05), with instances that take
 * 120 AWS seconds to boot (6 s here) — EC2 launch, OS and app start of a real
 * AMI take minutes, not the sandbox's default 10 s — so that what a warm
 * rollback saves, launching, shows in the timings.
 */
export function startRollbackSandbox(options: { classicLoadBalancer?: boolean } = {}): Promise<DeploySandbox> {
  return startDeploySandbox('us-east-1', { bootSeconds: 120, ...options });
}

/** A logger whose lines go to the test log (shown on failure or with --verbose), with ms since the test file started. */
export function testLogger(t: ExecutionContext, scope: string): Logger {
  return createLogger(scope, (line) => t.log(`+${String(Date.now() - fileStarted).padStart(6)}ms ${line.trimEnd()}`));
}

const fileStarted = Date.now();

/** Runs the deploy stage in-process on top of the sandbox's base input; returns exit code, output and seconds taken. */
export async function deploy(t: ExecutionContext, env: DeploySandbox, input: Record<string, unknown>) {
  const started = Date.now();
  const result = await executeStage(
    deployStage,
    { ...env.baseInput, healthTimeout: 60, drainTimeout: 30, ...input },
    testLogger(t, 'deploy'),
  );
  return {
    exitCode: result.exitCode,
    output: result.output as DeployOutput & { error?: Record<string, unknown> },
    seconds: (Date.now() - started) / 1000,
  };
}

/** Runs the rollback stage in-process. */
export async function rollback(t: ExecutionContext, env: DeploySandbox, input: Record<string, unknown>) {
  const started = Date.now();
  const base = { region: env.aws.region, ledger: env.baseInput.ledger, healthTimeout: 60, drainTimeout: 30 };
  const result = await executeStage(rollbackStage, { ...base, ...input }, testLogger(t, 'rollback'));
  return {
    exitCode: result.exitCode,
    output: result.output as RollbackOutput & { error?: Record<string, unknown> },
    seconds: (Date.now() - started) / 1000,
  };
}

/** Runs `work` with the traffic probe hitting the demo load balancer (or `url`); returns both results. */
export async function withProbe<T>(
  env: DeploySandbox,
  work: () => Promise<T>,
  url = env.listenerUrl,
): Promise<{ result: T; report: ProbeReport }> {
  // The probe shares this process with the sandbox and the stage: a short pause keeps it steady without starving them.
  const probe = startProbe({
    url,
    concurrency: 4,
    pauseMs: 5,
    maxDurationMs: 120_000,
    requestTimeoutMs: 5_000,
  });
  try {
    const result = await work();
    // A little traffic after the switch shows where it ends up.
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { result, report: await probe.stop() };
  } catch (error) {
    await probe.stop();
    throw error;
  }
}

/** Versions that answered `n` requests sent now. */
export async function versionsNow(env: DeploySandbox, n = 20, url = env.listenerUrl): Promise<Record<string, number>> {
  const report = await startProbe({ url, concurrency: 2, maxRequests: n, maxDurationMs: 10_000 }).done;
  return report.perVersion;
}

/** Instance ids of each server group of a cluster. */
export async function instancesByGroup(env: DeploySandbox, cluster: string): Promise<Record<string, string[]>> {
  const { groups } = await loadCluster(env.aws, cluster);
  return Object.fromEntries(groups.map((g) => [g.name, g.instances.map((i) => i.id).sort()]));
}

/** The probe report in one line for t.log. */
export function probeLine(report: ProbeReport): string {
  return `${report.total} requests, ${report.failed} failed ${JSON.stringify(report.failures)}, per version ${JSON.stringify(report.perVersion)}, timeline ${JSON.stringify(report.timeline)}`;
}
