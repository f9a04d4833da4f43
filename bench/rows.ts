/**
 * What every row of `npm run bench` shares: a fresh sandbox per row (stopped
 * by the signal handler if need be, checked for leftovers), the traffic
 * probe, the AWS CLI peer script and the row deadline.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { DescribeAutoScalingGroupsCommand, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import type { AwsClients } from '../src/aws/clients';
import type { Logger } from '../src/core/log';
import { startProbe, type Probe, type ProbeReport } from '../src/sandbox/probe';
import { startSandbox, type Sandbox } from '../src/sandbox/sandbox';
import { awsCliV2 } from '../test/helpers/aws-cli';

/** What a row's probe counted. */
export type ProbeTotals = Pick<ProbeReport, 'total' | 'ok' | 'failed' | 'failures' | 'perVersion' | 'durationMs'>;

/** What a row's sandbox left behind after its stop (both should be empty). */
export interface Leftovers {
  motoPid: number;
  motoAlive: boolean;
  openPorts: number[];
}

/** How a row's sandbox runs. */
export interface RowSandboxOptions {
  timeScale: number;
  bootSeconds: number;
  /** Several regions, each with its own demo infra and listener (default: one). */
  regions?: string[];
}

/** Rejects after `ms` (the size's deadline); `clear()` disarms it. */
export function deadline(ms: number, what: string): { promise: Promise<never>; clear: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: deadline of ${Math.round(ms / 1000)}s passed`)), ms);
  });
  promise.catch(() => undefined);
  return { promise, clear: () => clearTimeout(timer) };
}

/** The sandbox of the size being run, stopped by the signal handler if need be. */
let activeSandbox: Sandbox | undefined;
let activeProbe: Probe | undefined;

/** Starts a sandbox for one row, remembered for the signal handler. */
export async function rowSandbox(options: RowSandboxOptions, log: Logger): Promise<Sandbox> {
  const sandbox = await startSandbox({
    timeScale: options.timeScale,
    infra: 'demo',
    bootSeconds: options.bootSeconds,
    ...(options.regions ? { regions: options.regions } : {}),
    log: log.child('sandbox'),
  });
  activeSandbox = sandbox;
  return sandbox;
}

/** Stops a row's sandbox and checks that nothing of it is left. */
export async function stopRowSandbox(
  sandbox: Sandbox | undefined,
  log: Logger,
  label: string,
): Promise<{ stopMs: number; leftovers?: Leftovers }> {
  await activeProbe?.stop();
  activeProbe = undefined;
  // Every port at this moment (instance apps included), to check that the stop closed them all.
  const found = sandbox?.resources();
  const t = Date.now();
  await sandbox?.stop();
  activeSandbox = undefined;
  const stopMs = Date.now() - t;
  if (!found) return { stopMs };
  const leftovers = {
    motoPid: found.motoPid,
    motoAlive: alive(found.motoPid),
    openPorts: await openPorts(found.ports),
  };
  if (leftovers.motoAlive || leftovers.openPorts.length > 0)
    log.error(`${label}: left behind ${JSON.stringify(leftovers)}`);
  return { stopMs, leftovers };
}

export function startRowProbe(url: string, options: { probeConcurrency: number }, limitMs: number): Probe {
  const probe = startProbe({
    url,
    concurrency: options.probeConcurrency,
    maxDurationMs: limitMs,
    maxRequests: 10_000_000,
    requestTimeoutMs: 10_000,
  });
  activeProbe = probe;
  return probe;
}

export async function stopRowProbe(probe: Probe): Promise<ProbeTotals> {
  const report = await probe.stop();
  activeProbe = undefined;
  return {
    total: report.total,
    ok: report.ok,
    failed: report.failed,
    failures: report.failures,
    perVersion: report.perVersion,
    durationMs: report.durationMs,
  };
}

/** Server groups still registered in the target group (with at least one target not draining): what a broken deploy left serving beside the good one. */
export async function groupsInTargetGroup(sandbox: Sandbox, targetGroupArn: string): Promise<string[]> {
  const aws = sandbox.clients();
  await sandbox.refresh();
  const targets = new Set(
    sandbox
      .state()
      .targets.filter((t) => t.targetGroupArn === targetGroupArn && t.state !== 'draining' && t.state !== 'unused')
      .map((t) => t.instanceId),
  );
  const asgs = await describeAllAsgs(aws);
  return asgs
    .filter((g) => (g.Instances ?? []).some((i) => targets.has(i.InstanceId ?? '')))
    .map((g) => g.AutoScalingGroupName ?? '?');
}

export async function describeAllAsgs(aws: AwsClients): Promise<AutoScalingGroup[]> {
  const found: AutoScalingGroup[] = [];
  let token: string | undefined;
  do {
    const page = await aws.autoScaling.send(
      new DescribeAutoScalingGroupsCommand({ ...(token ? { NextToken: token } : {}) }),
    );
    found.push(...(page.AutoScalingGroups ?? []));
    token = page.NextToken;
  } while (token);
  return found;
}

/** Stops the row in progress (the signal handler). */
export async function stopActiveRow(): Promise<void> {
  await activeProbe?.stop().catch(() => undefined);
  await activeSandbox?.stop().catch(() => undefined);
}

/** Forgets the probe of a row that stopped it itself. */
export function probeStopped(): void {
  activeProbe = undefined;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Ports of `ports` that still accept a connection on 127.0.0.1. */
export async function openPorts(ports: number[]): Promise<number[]> {
  const open = await Promise.all(
    ports.map(
      (port) =>
        new Promise<number | undefined>((resolve) => {
          const socket = connect({ host: '127.0.0.1', port });
          socket.once('connect', () => {
            socket.destroy();
            resolve(port);
          });
          socket.once('error', () => resolve(undefined));
        }),
    ),
  );
  return open.filter((p): p is number => p !== undefined);
}

/** User + system CPU seconds a process has used so far (Linux /proc), undefined when unreadable. */
export function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 (utime, stime) in clock ticks; after the command name they are the 12th and 13th.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** USER_HZ on Linux (getconf CLK_TCK). */
const CLOCK_TICKS_PER_SECOND = 100;

const PEER_SCRIPT = join(__dirname, 'peers', 'aws-cli-bluegreen.sh');

/** Runs the peer script once; resolves with its exit code, output and the group it created. */
export function runPeerScript(
  sandbox: Sandbox,
  ami: string,
  size: number,
  extraEnv: Record<string, string>,
  limitMs: number,
): Promise<{ code: number; output: string; group?: string }> {
  const infra = sandbox.infra as NonNullable<Sandbox['infra']>;
  return new Promise((resolve) => {
    const child = spawn('bash', [PEER_SCRIPT, 'peer', ami, String(size)], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/tmp',
        ...sandbox.env(),
        AWS_PAGER: '',
        AWS_CLI: awsCliV2(),
        TARGET_GROUP_ARN: infra.targetGroupArn,
        SUBNETS: infra.subnetIds.join(','),
        SECURITY_GROUP: infra.securityGroupId,
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), limitMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const group = /^created (\S+)$/m.exec(output)?.[1];
      resolve({ code: code ?? 1, output: output.slice(-2000), ...(group ? { group } : {}) });
    });
  });
}
