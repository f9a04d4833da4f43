import type { ControlAnswer, GatewayHooks } from './gateway';
import type { TimelineSnapshot } from './timeline';
import type { TrafficLayer } from './traffic-layer';

/**
 * Several regions behind one gateway (`--regions us-east-1,eu-west-1`): moto
 * keeps each region apart (by the credential scope of each call), and the
 * sandbox runs one traffic layer per region (its instances, health checks,
 * listeners, metrics and alarms). The gateway's hooks go to the layer of the
 * call's region (the first region's for unsigned calls and regions not run);
 * the control API answers for all of them.
 */

/** AWS region names: `us-east-1`, `eu-west-1`, `us-gov-west-1`, `ap-southeast-2`… */
export const REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;

/** `--regions us-east-1,eu-west-1` → the regions, in order, once each; undefined when one is not a region name. */
export function parseRegions(value: string): { regions: string[] } | { invalid: string } {
  const regions = [
    ...new Set(
      value
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean),
    ),
  ];
  const invalid = regions.find((r) => !REGION_PATTERN.test(r));
  if (invalid !== undefined || regions.length === 0) return { invalid: invalid ?? value };
  return { regions };
}

/** Every layer's timeline in one, oldest first. */
export function mergedTimeline(snapshots: TimelineSnapshot[]): TimelineSnapshot {
  return {
    events: snapshots.flatMap((s) => s.events).sort((a, b) => a.at - b.at),
    dropped: snapshots.reduce((sum, s) => sum + s.dropped, 0),
  };
}

/** Gateway hooks that route each call to its region's layer; `layers` in region order, the first one the default. */
export function multiRegionHooks(
  layers: Map<string, TrafficLayer>,
  extraControl?: GatewayHooks['control'],
): GatewayHooks {
  const hooks = new Map([...layers].map(([region, layer]) => [region, layer.gatewayHooks()]));
  const first = hooks.values().next().value as GatewayHooks;
  const of = (call: { region?: string }): GatewayHooks => (call.region ? hooks.get(call.region) : undefined) ?? first;
  const all = [...layers.values()];
  return {
    // Keys carry the region; a mutating call forgets per service, whatever the region.
    ...(first.readCache ? { readCache: first.readCache } : {}),
    rewritesAction: (call) => of(call).rewritesAction?.(call) ?? false,
    rewriteResponse: (call, body) => of(call).rewriteResponse?.(call, body),
    rewriteRequest: (call, headers, body) => of(call).rewriteRequest?.(call, headers, body),
    answerCall: async (call, headers, body) => of(call).answerCall?.(call, headers, body),
    onCall: (call, receivedAt, fault) => of(call).onCall?.(call, receivedAt, fault),
    afterMutation: async (call) => of(call).afterMutation?.(call),
    control: async (method, path, body, query): Promise<ControlAnswer | undefined> => {
      if (method === 'GET' && path === 'listeners')
        return { status: 200, body: { listeners: all.flatMap((layer) => layer.endpoints()) } };
      if (method === 'GET' && path === 'state') {
        const states = all.map((layer) => layer.state());
        return {
          status: 200,
          body: {
            instances: states.flatMap((s) => s.instances),
            targets: states.flatMap((s) => s.targets),
            listeners: states.flatMap((s) => s.listeners),
          },
        };
      }
      if (method === 'GET' && path === 'timeline') {
        const since = Number(query?.get('since') ?? 0) || 0;
        return { status: 200, body: mergedTimeline(all.map((layer) => layer.timeline.snapshot(since))) };
      }
      if ((method === 'DELETE' && path === 'timeline') || (method === 'POST' && path === 'timeline/reset')) {
        for (const layer of all) layer.timeline.reset();
        return { status: 200, body: mergedTimeline(all.map((layer) => layer.timeline.snapshot())) };
      }
      if (method === 'POST' && path === 'refresh') {
        await Promise.all(all.map((layer) => layer.refresh()));
        return { status: 200, body: { regions: [...layers.keys()] } };
      }
      const answer = await first.control?.(method, path, body, query);
      return answer ?? extraControl?.(method, path, body, query);
    },
  };
}
