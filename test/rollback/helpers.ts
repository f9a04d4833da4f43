import type { ExecutionContext } from 'ava';
import { awsClients } from '../../src/aws/clients';
import { loadCluster } from '../../src/cluster/server-groups';
import { createLogger, type Logger } from '../../src/core/log';
import { startProbe, type ProbeReport } from '../../src/sandbox/probe';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox';
import { deployStage } from '../../src/stages/deploy';
import { executeStage } from '../../src/stages/framework';
import { rollbackStage } from '../../src/stages/rollback';
import type { RollbackOutput } from '../../src/rollback/rollback';
import type { DeployOutput } from '../../src/deploy/deploy';

export const region = 'us-east-1';

/**
 * A sandbox for rollback tests: demo infra, time ×0.05 (health checks every
 * 0.5 s, deregistration delay 1.5 s), instances that take 60 AWS seconds to
 * boot (3 s here; a real AMI takes minutes), fast polling, and the process
 * environment aimed at it (the stages build their clients from it).
 */
export async function startRollbackSandbox(): Promise<Sandbox> {
  const sandbox = await startSandbox({ infra: 'demo', timeScale: 0.05, bootSeconds: 60, region });
  Object.assign(process.env, sandbox.env(), { BLUEGREEN_POLL_MIN_MS: '50', BLUEGREEN_POLL_MAX_MS: '200' });
  return sandbox;
}

/** A logger whose lines go to the test log (shown on failure or with --verbose). */
export function testLogger(t: ExecutionContext, scope: string): Logger {
  return createLogger(scope, (line) => t.log(line.trimEnd()));
}

/** Runs the deploy stage in-process; returns exit code, output and seconds taken. */
export async function deploy(t: ExecutionContext, sandbox: Sandbox, input: Record<string, unknown>) {
  const infra = sandbox.infra!;
  const started = Date.now();
  const result = await executeStage(
    deployStage,
    {
      region,
      targetGroups: [infra.targetGroupName],
      capacity: { min: 2, max: 4, desired: 2 },
      instanceType: 't3.micro',
      subnets: infra.subnetIds,
      ledger: { bucket: infra.ledgerBucket },
      healthTimeout: 60,
      drainTimeout: 30,
      ...input,
    },
    testLogger(t, 'deploy'),
  );
  return { exitCode: result.exitCode, output: result.output as DeployOutput & { error?: Record<string, unknown> }, seconds: (Date.now() - started) / 1000 };
}

/** Runs the rollback stage in-process. */
export async function rollback(t: ExecutionContext, sandbox: Sandbox, input: Record<string, unknown>) {
  const started = Date.now();
  const result = await executeStage(
    rollbackStage,
    { region, ledger: { bucket: sandbox.infra!.ledgerBucket }, healthTimeout: 60, drainTimeout: 30, ...input },
    testLogger(t, 'rollback'),
  );
  return { exitCode: result.exitCode, output: result.output as RollbackOutput & { error?: Record<string, unknown> }, seconds: (Date.now() - started) / 1000 };
}

/** Runs `work` with the traffic probe hitting the demo load balancer; returns both results. */
export async function withProbe<T>(sandbox: Sandbox, work: () => Promise<T>): Promise<{ result: T; report: ProbeReport }> {
  // The probe shares this process with the sandbox and the stage: a short pause keeps it steady without starving them.
  const probe = startProbe({ url: sandbox.listenerUrl as string, concurrency: 4, pauseMs: 5, maxDurationMs: 120_000, requestTimeoutMs: 5_000 });
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

/** Versions answering the last `n` successful requests of a probe run. */
export async function versionsNow(sandbox: Sandbox, n = 20): Promise<Record<string, number>> {
  const probe = startProbe({ url: sandbox.listenerUrl as string, concurrency: 2, maxRequests: n, maxDurationMs: 10_000 });
  const report = await probe.done;
  return report.perVersion;
}

/** Instance ids of each server group of a cluster. */
export async function instancesByGroup(cluster: string): Promise<Record<string, string[]>> {
  const { groups } = await loadCluster(awsClients(region), cluster);
  return Object.fromEntries(groups.map((g) => [g.name, g.instances.map((i) => i.id).sort()]));
}

/** The probe report in one line for t.log. */
export function probeLine(report: ProbeReport): string {
  return `${report.total} requests, ${report.failed} failed ${JSON.stringify(report.failures)}, per version ${JSON.stringify(report.perVersion)}, timeline ${JSON.stringify(report.timeline)}`;
}
