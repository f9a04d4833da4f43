import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { AwsCall } from './aws-request';
import { isWorldNeutral } from './world-effects';

/**
 * Moto's answers to the costly reads of a deploy's polls (DescribeTargetHealth
 * of hundreds of targets, DescribeAutoScalingGroups with their instances),
 * kept until a call could change them: moto changes only through calls, and
 * every call passes the gateway. The gateway still counts and faults each
 * call and the traffic layer still rewrites each answer (live target health),
 * so only moto's unchanged part is reused, with a fresh request id.
 *
 * A mutating call forgets its own service's answers and, unless it cannot
 * change the world (world-effects.ts), those of every world service (an ASG
 * call registers targets; an EC2 call can terminate them) — both when it
 * arrives and when moto has answered it, so a read that ran meanwhile is not kept.
 */

/** Reads whose answers are kept (Query protocol; the key is every parameter). */
const CACHED_READS = new Set([
  'elasticloadbalancing:DescribeTargetHealth',
  'elasticloadbalancing:DescribeTargetGroups',
  'autoscaling:DescribeAutoScalingGroups',
  'ec2:DescribeInstances',
]);
const WORLD_SERVICES = ['ec2', 'autoscaling', 'elasticloadbalancing'];

/** A kept answer of moto. */
export interface CachedAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface Entry extends CachedAnswer {
  service: string;
  generation: number;
}

/** The region of a SigV4-signed request (credential scope `AKID/date/region/service/aws4_request`). */
function regionOf(headers: IncomingHttpHeaders): string {
  const credential = /Credential=([^,\s]+)/.exec(String(headers.authorization ?? ''))?.[1] ?? '';
  return credential.split('/')[2] ?? '';
}

export class MotoReadCache {
  private readonly entries = new Map<string, Entry>();
  /** Bumped by every call that may change a service's answers. */
  private readonly generations = new Map<string, number>();
  private hits = 0;
  private misses = 0;

  private generationOf(service: string): number {
    return this.generations.get(service) ?? 0;
  }

  /** The key of a read whose answer may be kept, else undefined. */
  keyOf(call: AwsCall, headers: IncomingHttpHeaders): string | undefined {
    if (call.mutating || !CACHED_READS.has(`${call.service}:${call.action}`) || call.params.size === 0)
      return undefined;
    const params = [...call.params].map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).sort();
    return `${call.service} ${regionOf(headers)} ${params.join('&')}`;
  }

  /** A kept answer, with a fresh request id; undefined when there is none still valid. */
  get(key: string, service: string): CachedAnswer | undefined {
    const entry = this.entries.get(key);
    if (!entry || entry.generation !== this.generationOf(service)) {
      this.misses += 1;
      return undefined;
    }
    this.hits += 1;
    const requestId = randomUUID();
    const body = Buffer.from(
      entry.body.toString('utf8').replace(/<RequestId>[^<]*<\/RequestId>/, `<RequestId>${requestId}</RequestId>`),
      'utf8',
    );
    return {
      status: entry.status,
      headers: { ...entry.headers, 'x-amzn-requestid': requestId, 'content-length': String(body.length) },
      body,
    };
  }

  /** The generation to pass to {@link set}, taken before the read is sent to moto. */
  generation(service: string): number {
    return this.generationOf(service);
  }

  /** Keeps moto's successful answer, unless a call that may change it came since `generation` was taken. */
  set(key: string, service: string, generation: number, answer: CachedAnswer): void {
    if (answer.status >= 300 || generation !== this.generationOf(service)) return;
    this.entries.set(key, { ...answer, service, generation });
  }

  /** Forgets what a mutating call may change (call it when the call arrives and again once moto answered it). */
  forget(call: Pick<AwsCall, 'service' | 'action' | 'mutating'>): void {
    if (!call.mutating) return;
    const services = new Set(isWorldNeutral(call) ? [call.service] : [call.service, ...WORLD_SERVICES]);
    for (const service of services) this.generations.set(service, this.generationOf(service) + 1);
    for (const [key, entry] of this.entries) if (services.has(entry.service)) this.entries.delete(key);
  }

  /** Reads answered from the cache and from moto, since the start. */
  counts(): { hits: number; misses: number } {
    return { hits: this.hits, misses: this.misses };
  }
}
