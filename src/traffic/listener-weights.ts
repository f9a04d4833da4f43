import {
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
  type Action,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../aws/clients';
import { chunk } from '../aws/paginate';
import { InputError } from '../core/errors';
import { targetGroupNameFromArn } from './target-group-names';

/**
 * A canary's share of the traffic on the load balancer: every listener
 * default action and every listener rule that forwards to a production target
 * group alone (a "forward site") is weighted between it and the canary's
 * target group. Putting a site back writes its actions exactly as read before
 * the first weight; after a crash (the originals gone with the process) the
 * canary target groups are taken out of the live actions instead.
 *
 * Stickiness: the action's own `TargetGroupStickinessConfig` is kept as it is
 * (see docs/architecture.md, "Canary": why the order of the steps, not turning
 * it off, keeps stuck clients from 503s).
 */

/** A listener, or a rule of one, whose actions forward to one production target group. */
export interface ForwardSite {
  kind: 'listener' | 'rule';
  /** The listener's or the rule's ARN. */
  arn: string;
  /** Its actions as read before the canary (written back as they are). */
  actions: Action[];
  /** The production target group it forwards to. */
  productionArn: string;
}

/** The target groups a forward action sends to (plain `TargetGroupArn` or `ForwardConfig`). */
export function forwardedTo(action: Action): string[] {
  if (action.Type !== 'forward') return [];
  const weighted = (action.ForwardConfig?.TargetGroups ?? []).map((g) => g.TargetGroupArn as string);
  return weighted.length > 0 ? weighted : action.TargetGroupArn ? [action.TargetGroupArn] : [];
}

/** A listener or rule whose actions name one of some target groups (among others or not). */
type NamingSite = Pick<ForwardSite, 'kind' | 'arn' | 'actions'>;

/** Every listener and (non-default) rule of the target groups' load balancers whose actions forward to one of them. */
async function sitesNaming(aws: AwsClients, targetGroupArns: readonly string[]): Promise<NamingSite[]> {
  const production = new Set(targetGroupArns);
  const balancers = new Set<string>();
  for (const batch of chunk([...targetGroupArns], 20)) {
    const answer = await aws.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: batch }));
    for (const group of answer.TargetGroups ?? []) for (const lb of group.LoadBalancerArns ?? []) balancers.add(lb);
  }
  const found: NamingSite[] = [];
  const consider = (kind: ForwardSite['kind'], arn: string, actions: Action[]) => {
    if (actions.flatMap(forwardedTo).some((t) => production.has(t))) found.push({ kind, arn, actions });
  };
  for (const lb of balancers) {
    let marker: string | undefined;
    do {
      const listeners = await aws.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb, Marker: marker }));
      for (const listener of listeners.Listeners ?? []) {
        consider('listener', listener.ListenerArn as string, listener.DefaultActions ?? []);
        let ruleMarker: string | undefined;
        do {
          const rules = await aws.elbv2.send(
            new DescribeRulesCommand({ ListenerArn: listener.ListenerArn, Marker: ruleMarker }),
          );
          // The default rule mirrors the listener's default actions (changed through ModifyListener).
          for (const rule of rules.Rules ?? [])
            if (!rule.IsDefault) consider('rule', rule.RuleArn as string, rule.Actions ?? []);
          ruleMarker = rules.NextMarker;
        } while (ruleMarker);
      }
      marker = listeners.NextMarker;
    } while (marker);
  }
  return found;
}

/** Every site forwarding to one of `productionArns` alone; throws on a site that forwards to one of them among others (weights the canary cannot share). */
export async function findForwardSites(aws: AwsClients, productionArns: readonly string[]): Promise<ForwardSite[]> {
  const production = new Set(productionArns);
  return (await sitesNaming(aws, productionArns)).map((site) => {
    const targets = site.actions.flatMap(forwardedTo);
    if (targets.length !== 1)
      throw new InputError(
        'targetGroups',
        `${site.kind} ${site.arn} forwards to ${targets.length} target groups (${targets.map(targetGroupNameFromArn).join(', ')}): a canary needs each listener action forwarding to a production target group to forward to it alone`,
      );
    return { ...site, productionArn: targets.find((t) => production.has(t)) as string };
  });
}

/**
 * The actions of a site at `percent` for the canary: its forward action split
 * between the production target group (100 − percent) and the canary one,
 * every other field (order, stickiness) as it was. Pure.
 */
export function weightedActions(site: ForwardSite, canaryArn: string, percent: number): Action[] {
  return site.actions.map((action) => {
    if (forwardedTo(action).length === 0) return action;
    const { TargetGroupArn: _single, ForwardConfig, ...rest } = action;
    return {
      ...rest,
      ForwardConfig: {
        ...ForwardConfig,
        TargetGroups: [
          { TargetGroupArn: site.productionArn, Weight: 100 - percent },
          { TargetGroupArn: canaryArn, Weight: percent },
        ],
      },
    };
  });
}

/** Actions without the canary target groups: what a site forwarded to before, read back from live actions (after a crash). Pure. */
export function withoutCanary(actions: readonly Action[], canaryArns: ReadonlySet<string>): Action[] {
  return actions.map((action) => {
    const groups = action.ForwardConfig?.TargetGroups;
    if (action.Type !== 'forward' || !groups?.some((g) => canaryArns.has(g.TargetGroupArn as string))) return action;
    const kept = groups.filter((g) => !canaryArns.has(g.TargetGroupArn as string));
    const { ForwardConfig, TargetGroupArn: _single, ...rest } = action;
    // One target group and no group stickiness: the plain form, as a forward to one target group is written (and described).
    if (kept.length === 1 && !ForwardConfig?.TargetGroupStickinessConfig?.Enabled)
      return { ...rest, TargetGroupArn: kept[0]?.TargetGroupArn as string };
    return { ...rest, ForwardConfig: { ...ForwardConfig, TargetGroups: kept.map((g) => ({ ...g, Weight: 1 })) } };
  });
}

/** Writes a site's actions (ModifyListener or ModifyRule: the next request follows them). */
export async function writeSite(aws: AwsClients, site: Pick<ForwardSite, 'kind' | 'arn'>, actions: Action[]) {
  if (site.kind === 'listener')
    await aws.elbv2.send(new ModifyListenerCommand({ ListenerArn: site.arn, DefaultActions: actions }));
  else await aws.elbv2.send(new ModifyRuleCommand({ RuleArn: site.arn, Actions: actions }));
}

/** Sets the canary's share on every site (`canaryOf`: production target group ARN → canary target group ARN). */
export async function setCanaryWeight(
  aws: AwsClients,
  sites: readonly ForwardSite[],
  canaryOf: ReadonlyMap<string, string>,
  percent: number,
): Promise<void> {
  for (const site of sites)
    await writeSite(aws, site, weightedActions(site, canaryOf.get(site.productionArn) as string, percent));
}

/** Every site back to its actions as read before the canary. */
export async function restoreSites(aws: AwsClients, sites: readonly ForwardSite[]): Promise<void> {
  for (const site of sites) await writeSite(aws, site, site.actions);
}

/**
 * After a crash: every listener and rule that still forwards to a canary
 * target group forwards to the production ones alone again. Returns how many it changed.
 */
export async function removeCanaryFromListeners(
  aws: AwsClients,
  canaryArns: readonly string[],
  productionArns: readonly string[],
): Promise<number> {
  if (canaryArns.length === 0) return 0;
  const canary = new Set(canaryArns);
  let changed = 0;
  // Found through the production target groups' load balancers too: a target group only in a weighted forward may not list its load balancer.
  for (const site of await sitesNaming(aws, [...new Set([...canaryArns, ...productionArns])])) {
    if (!site.actions.flatMap(forwardedTo).some((arn) => canary.has(arn))) continue;
    await writeSite(aws, site, withoutCanary(site.actions, canary));
    changed += 1;
  }
  return changed;
}
