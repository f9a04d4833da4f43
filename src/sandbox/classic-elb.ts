/**
 * Classic load balancers (the `elb` API, version 2012-06-01) as moto holds
 * them, read straight from moto with plain Query-protocol requests (the
 * project has no SDK client for the classic API; moto does not check
 * signatures, only reads the region and service from the credential scope).
 */

/** A CLB listener: the port it listens on in AWS and the instance port it forwards to. */
export interface ClassicListenerFacts {
  protocol: string;
  loadBalancerPort: number;
  instancePort: number;
}

/** A CLB health check: `HTTP:80/health`, `TCP:80`, … with its timing in AWS seconds. */
export interface ClassicHealthCheck {
  target: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

export interface ClassicLoadBalancerFacts {
  name: string;
  dnsName: string;
  listeners: ClassicListenerFacts[];
  healthCheck: ClassicHealthCheck;
  /** Registered instances (moto's membership). */
  instances: string[];
  /** Connection draining: how long a deregistered instance keeps its in-flight requests (AWS seconds); undefined when off. */
  drainingTimeoutSeconds?: number;
}

/** One XML element: its name, text and children. */
export interface XmlNode {
  name: string;
  text: string;
  children: XmlNode[];
}

function decodeEntities(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&amp;/g, '&');
}

/** Parses the plain XML of AWS Query answers (elements and text; attributes ignored). */
export function parseXml(xml: string): XmlNode {
  const root: XmlNode = { name: '', text: '', children: [] };
  const stack = [root];
  const tokens = /<\?[^>]*\?>|<!--[\s\S]*?-->|<(\/?)([\w:.-]+)[^>]*?(\/?)>|([^<]+)/g;
  for (let match = tokens.exec(xml); match; match = tokens.exec(xml)) {
    const [, closing, name, selfClosing, text] = match;
    const top = stack[stack.length - 1] as XmlNode;
    if (text !== undefined) top.text += decodeEntities(text);
    else if (!name) continue;
    else if (closing) {
      if (stack.length > 1) stack.pop();
    } else {
      const node: XmlNode = { name, text: '', children: [] };
      top.children.push(node);
      if (!selfClosing) stack.push(node);
    }
  }
  return root;
}

/** The first descendant (depth first) named `name`. */
export function find(node: XmlNode | undefined, name: string): XmlNode | undefined {
  if (!node) return undefined;
  for (const child of node.children) {
    if (child.name === name) return child;
    const deeper = find(child, name);
    if (deeper) return deeper;
  }
  return undefined;
}

/** The text of the child path `a/b/c`, trimmed; undefined when missing. */
export function textAt(node: XmlNode | undefined, path: string): string | undefined {
  let at = node;
  for (const part of path.split('/')) at = at?.children.find((c) => c.name === part);
  return at ? at.text.trim() : undefined;
}

/** The `member` children of a list element. */
export function membersOf(node: XmlNode | undefined): XmlNode[] {
  return (node?.children ?? []).filter((c) => c.name === 'member');
}

/** Sends one classic ELB Query action to `endpoint` (moto or the gateway); the parsed answer, or an Error with AWS's code. */
export async function classicElbCall(
  endpoint: string,
  region: string,
  action: string,
  params: Record<string, string> = {},
): Promise<XmlNode> {
  const body = new URLSearchParams({ Action: action, Version: '2012-06-01', ...params }).toString();
  const date = new Date().toISOString().slice(0, 10).replace(/-/g, '');
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      authorization: `AWS4-HMAC-SHA256 Credential=sandbox/${date}/${region}/elasticloadbalancing/aws4_request, SignedHeaders=host, Signature=sandbox`,
    },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  const tree = parseXml(await response.text());
  if (response.status >= 300) {
    const code = textAt(find(tree, 'Error'), 'Code') ?? `HTTP${response.status}`;
    throw Object.assign(new Error(`${action}: ${code}: ${textAt(find(tree, 'Error'), 'Message') ?? ''}`), {
      name: code,
    });
  }
  return tree;
}

function numberAt(node: XmlNode | undefined, path: string, fallback: number): number {
  const value = Number(textAt(node, path));
  return Number.isFinite(value) && textAt(node, path) !== '' && textAt(node, path) !== undefined ? value : fallback;
}

/** A CLB's facts from a `LoadBalancerDescriptions` member (draining read separately). */
export function classicFactsOf(member: XmlNode): ClassicLoadBalancerFacts {
  const listeners = membersOf(find(member, 'ListenerDescriptions')).map((d) => {
    const listener = find(d, 'Listener');
    return {
      protocol: textAt(listener, 'Protocol') ?? 'HTTP',
      loadBalancerPort: numberAt(listener, 'LoadBalancerPort', 80),
      instancePort: numberAt(listener, 'InstancePort', 80),
    };
  });
  const check = member.children.find((c) => c.name === 'HealthCheck');
  return {
    name: textAt(member, 'LoadBalancerName') ?? '',
    dnsName: textAt(member, 'DNSName') ?? '',
    listeners,
    // AWS's defaults for a CLB created without ConfigureHealthCheck.
    healthCheck: {
      target: textAt(check, 'Target') || `TCP:${listeners[0]?.instancePort ?? 80}`,
      intervalSeconds: numberAt(check, 'Interval', 30),
      timeoutSeconds: numberAt(check, 'Timeout', 5),
      healthyThreshold: numberAt(check, 'HealthyThreshold', 10),
      unhealthyThreshold: numberAt(check, 'UnhealthyThreshold', 2),
    },
    instances: membersOf(find(member, 'Instances'))
      .map((m) => textAt(m, 'InstanceId') ?? '')
      .filter(Boolean),
  };
}

/** Every CLB moto holds in `region`, with its connection draining setting. */
export async function readClassicLoadBalancers(
  motoEndpoint: string,
  region: string,
): Promise<Map<string, ClassicLoadBalancerFacts>> {
  const result = new Map<string, ClassicLoadBalancerFacts>();
  let marker: string | undefined;
  do {
    const page = await classicElbCall(motoEndpoint, region, 'DescribeLoadBalancers', marker ? { Marker: marker } : {});
    for (const member of membersOf(find(page, 'LoadBalancerDescriptions'))) {
      const facts = classicFactsOf(member);
      if (facts.name) result.set(facts.name, facts);
    }
    marker = textAt(find(page, 'DescribeLoadBalancersResult'), 'NextMarker') || undefined;
  } while (marker);
  await Promise.all(
    [...result.values()].map(async (facts) => {
      const attributes = await classicElbCall(motoEndpoint, region, 'DescribeLoadBalancerAttributes', {
        LoadBalancerName: facts.name,
      });
      const draining = find(attributes, 'ConnectionDraining');
      if (textAt(draining, 'Enabled') === 'true') facts.drainingTimeoutSeconds = numberAt(draining, 'Timeout', 300);
    }),
  );
  return result;
}

/** `HTTP:80/health` → how to check: an HTTP GET of the path, or a TCP connect. */
export function parseHealthTarget(target: string): { kind: 'http' | 'tcp'; path: string } {
  const match = /^(HTTPS?|TCP|SSL):(\d+)(\/.*)?$/i.exec(target.trim());
  const protocol = (match?.[1] ?? 'TCP').toUpperCase();
  return protocol === 'HTTP' || protocol === 'HTTPS'
    ? { kind: 'http', path: match?.[3] ?? '/' }
    : { kind: 'tcp', path: '' };
}
