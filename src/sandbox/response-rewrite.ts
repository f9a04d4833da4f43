import type { TargetHealthView } from './target-health';

/**
 * Rewrites moto's XML answers where the traffic layer knows better: target
 * health (real checks, draining) and ASG instance HealthStatus (follows the
 * ELB health for `HealthCheckType=ELB`). Moto's XML is regular, so targeted
 * replacements keep everything else byte for byte.
 */

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function targetHealthXml(view: TargetHealthView): string {
  const reason = view.reason ? `<Reason>${escapeXml(view.reason)}</Reason>` : '';
  const description = view.description ? `<Description>${escapeXml(view.description)}</Description>` : '';
  return `<TargetHealth><State>${view.state}</State>${reason}${description}</TargetHealth>`;
}

/** What the DescribeTargetHealth rewrite needs to know. */
export interface TargetHealthSource {
  /** Our view of a target moto lists as registered; undefined when not tracked yet. */
  healthOf(targetGroupArn: string, instanceId: string): TargetHealthView | undefined;
  /** Deregistered targets still draining (moto no longer lists them). */
  drainingTargets(targetGroupArn: string): { instanceId: string; port: number }[];
}

const NOT_YET_CHECKED: TargetHealthView = {
  state: 'initial',
  reason: 'Elb.InitialHealthChecking',
  description: 'Initial health checks in progress',
};
const DRAINING: TargetHealthView = {
  state: 'draining',
  reason: 'Target.DeregistrationInProgress',
  description: 'Target deregistration is in progress',
};

/**
 * Rewrites a DescribeTargetHealth answer. `askedForTargets` is true when the
 * request named targets (then only those are described, as AWS does).
 */
export function rewriteTargetHealth(
  xml: string,
  targetGroupArn: string,
  askedForTargets: boolean,
  source: TargetHealthSource,
): string {
  const listed = new Set<string>();
  const draining = new Map(source.drainingTargets(targetGroupArn).map((t) => [t.instanceId, t]));
  let out = xml.replace(
    /<member><Target>([\s\S]*?)<\/Target>([\s\S]*?)<TargetHealth>([\s\S]*?)<\/TargetHealth>([\s\S]*?)<\/member>/g,
    (whole, target: string, between: string, health: string, after: string) => {
      const id = /<Id>([^<]+)<\/Id>/.exec(target)?.[1];
      if (!id) return whole;
      listed.add(id);
      const motoState = /<State>([^<]+)<\/State>/.exec(health)?.[1];
      const motoReason = /<Reason>([^<]+)<\/Reason>/.exec(health)?.[1];
      let view: TargetHealthView | undefined;
      if (motoReason === 'Target.NotRegistered' || motoState === 'draining') {
        view = draining.has(id)
          ? DRAINING
          : motoState === 'draining'
            ? undefined
            : {
                state: 'unused',
                reason: 'Target.NotRegistered',
                description: 'Target is not registered to the target group',
              };
      } else if (motoState === 'healthy') {
        view = source.healthOf(targetGroupArn, id) ?? NOT_YET_CHECKED;
        if (view.state === 'draining') view = NOT_YET_CHECKED; // re-registered while draining: moto's membership wins
      }
      if (!view) return whole;
      return `<member><Target>${target}</Target>${between}${targetHealthXml(view)}${after}</member>`;
    },
  );
  if (!askedForTargets) {
    const extra = [...draining.values()]
      .filter((t) => !listed.has(t.instanceId))
      .map(
        (t) =>
          `<member><Target><Id>${t.instanceId}</Id><Port>${t.port}</Port></Target><HealthCheckPort>traffic-port</HealthCheckPort>${targetHealthXml(DRAINING)}</member>`,
      )
      .join('');
    if (extra) {
      out = out.includes('<TargetHealthDescriptions/>')
        ? out.replace('<TargetHealthDescriptions/>', `<TargetHealthDescriptions>${extra}</TargetHealthDescriptions>`)
        : out.replace('</TargetHealthDescriptions>', `${extra}</TargetHealthDescriptions>`);
    }
  }
  return out;
}

/**
 * Rewrites `<HealthStatus>` of every instance in a DescribeAutoScalingGroups or
 * DescribeAutoScalingInstances answer; `statusOf` returns undefined to keep moto's.
 */
export function rewriteAsgInstanceHealth(
  xml: string,
  statusOf: (instanceId: string) => 'Healthy' | 'Unhealthy' | undefined,
): string {
  return xml.replace(
    /(<InstanceId>(i-[0-9a-zA-Z]+)<\/InstanceId>(?:(?!<\/member>)[\s\S])*?<HealthStatus>)(Healthy|Unhealthy)(<\/HealthStatus>)/g,
    (whole, head: string, id: string, _status: string, tail: string) => {
      const status = statusOf(id);
      return status ? `${head}${status}${tail}` : whole;
    },
  );
}
