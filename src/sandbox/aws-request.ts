import { gunzipSync } from 'node:zlib';

/**
 * Tells which AWS service and action an HTTP request is, from what every AWS
 * client sends: the SigV4 credential scope (header or presigned query), the
 * `Action=` of Query APIs, `X-Amz-Target` of JSON APIs, and S3's REST shape.
 */

/** A classified AWS call. */
export interface AwsCall {
  /** Signing name from the credential scope: `ec2`, `autoscaling`, `elasticloadbalancing`, `s3`, … */
  service: string;
  /** API action, e.g. `DescribeAutoScalingGroups`, `PutObject`. */
  action: string;
  /** Whether the call may change something (anything but Describe/List/Get/Head). */
  mutating: boolean;
  /** Decoded form/query parameters of Query-protocol calls (empty otherwise). */
  params: URLSearchParams;
  /** The region of the credential scope, when signed (the gateway sets it). */
  region?: string;
}

/** The request facts classification needs. */
export interface RawRequest {
  method: string;
  /** Path and query, as received. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const READ_ONLY = /^(Describe|List|Get|Head)/;

/** True when an action name may change state (anything but Describe*, List*, Get*, Head*). */
export function isMutatingAction(action: string): boolean {
  return !READ_ONLY.test(action);
}

function header(request: RawRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Service of a SigV4 credential `AKID/date/region/service/aws4_request`. */
function serviceOfCredential(credential: string | null | undefined): string | undefined {
  if (!credential) return undefined;
  const parts = credential.split('/');
  return parts.length >= 5 ? parts[parts.length - 2] : undefined;
}

/** The SigV4 credential scope of a request (`AKID/date/region/service/aws4_request`, header or presigned query). */
export function credentialOf(
  request: Pick<RawRequest, 'headers' | 'url'>,
): { accessKeyId: string; region: string } | undefined {
  const authorization = header(request as RawRequest, 'authorization') ?? '';
  const credential =
    /Credential=([^,\s]+)/.exec(authorization)?.[1] ??
    new URL(request.url, 'http://sandbox.invalid').searchParams.get('X-Amz-Credential') ??
    undefined;
  const parts = credential?.split('/') ?? [];
  return parts.length >= 5
    ? { accessKeyId: parts.slice(0, parts.length - 4).join('/'), region: parts[parts.length - 3] as string }
    : undefined;
}

/** The signing service of a request; unsigned requests are taken as S3 (public/presigned-POST style). */
export function serviceOf(request: RawRequest, query: URLSearchParams): string {
  const authorization = header(request, 'authorization') ?? '';
  const fromHeader = /Credential=([^,\s]+)/.exec(authorization)?.[1];
  return serviceOfCredential(fromHeader) ?? serviceOfCredential(query.get('X-Amz-Credential')) ?? 's3';
}

/**
 * The body of a request the SDK compressed (`Content-Encoding: gzip`: AWS
 * request compression, e.g. a large CloudWatch PutMetricData), decompressed;
 * undefined when it is not compressed, or is S3 (there the encoding is the
 * object's own), or does not decompress. Moto fails on compressed bodies.
 */
export function decompressedBody(request: RawRequest): Buffer | undefined {
  if ((header(request, 'content-encoding') ?? '').trim().toLowerCase() !== 'gzip' || request.body.length === 0)
    return undefined;
  if (serviceOf(request, new URL(request.url, 'http://sandbox.invalid').searchParams) === 's3') return undefined;
  try {
    return gunzipSync(request.body);
  } catch {
    return undefined;
  }
}

/** Classifies one request. */
export function classifyRequest(request: RawRequest): AwsCall {
  const url = new URL(request.url, 'http://sandbox.invalid');
  const query = url.searchParams;
  const service = serviceOf(request, query);
  const target = header(request, 'x-amz-target');
  if (target) {
    const action = target.split('.').pop() ?? 'Unknown';
    return { service, action, mutating: isMutatingAction(action), params: new URLSearchParams() };
  }
  if (service === 's3') {
    const action = s3Action(request.method.toUpperCase(), url, request);
    return { service, action, mutating: isMutatingAction(action), params: new URLSearchParams() };
  }
  // Query protocol (EC2, Auto Scaling, ELBv2, STS, …): Action in the form body or the query string.
  const contentType = header(request, 'content-type') ?? '';
  const params = contentType.includes('x-www-form-urlencoded')
    ? new URLSearchParams(request.body.toString('utf8'))
    : new URLSearchParams();
  for (const [key, value] of query) if (!params.has(key)) params.set(key, value);
  const action = params.get('Action') ?? 'Unknown';
  return { service, action, mutating: isMutatingAction(action), params };
}

/** S3 REST: the action from method, path shape (bucket or object) and sub-resource. */
function s3Action(method: string, url: URL, request: RawRequest): string {
  const host = header(request, 'host') ?? '';
  const virtualBucket = /^([^.]+)\.(localhost|127\.0\.0\.1)(:\d+)?$/.exec(host)?.[1];
  const segments = url.pathname.split('/').filter(Boolean);
  const hasBucket = Boolean(virtualBucket) || segments.length >= 1;
  const hasKey = virtualBucket ? segments.length >= 1 : segments.length >= 2;
  const q = url.searchParams;
  const has = (name: string): boolean => q.has(name);
  if (!hasBucket) return method === 'GET' ? 'ListBuckets' : `${method}Service`;
  if (hasKey) {
    if (has('uploadId')) {
      if (method === 'PUT') return header(request, 'x-amz-copy-source') ? 'UploadPartCopy' : 'UploadPart';
      if (method === 'POST') return 'CompleteMultipartUpload';
      if (method === 'DELETE') return 'AbortMultipartUpload';
      if (method === 'GET') return 'ListParts';
    }
    if (has('uploads') && method === 'POST') return 'CreateMultipartUpload';
    for (const sub of ['tagging', 'acl', 'retention', 'legal-hold', 'attributes'] as const) {
      if (has(sub)) return `${methodVerb(method)}Object${subresourceName(sub)}`;
    }
    switch (method) {
      case 'GET':
        return 'GetObject';
      case 'HEAD':
        return 'HeadObject';
      case 'PUT':
        return header(request, 'x-amz-copy-source') ? 'CopyObject' : 'PutObject';
      case 'DELETE':
        return 'DeleteObject';
      case 'POST':
        return 'PostObject';
      default:
        return `${method}Object`;
    }
  }
  if (method === 'POST' && has('delete')) return 'DeleteObjects';
  if (method === 'GET' && has('versions')) return 'ListObjectVersions';
  if (method === 'GET' && has('uploads')) return 'ListMultipartUploads';
  if (method === 'GET' && has('location')) return 'GetBucketLocation';
  const bucketSubresources = [
    'versioning',
    'policy',
    'tagging',
    'acl',
    'lifecycle',
    'encryption',
    'cors',
    'notification',
    'object-lock',
    'ownershipControls',
    'publicAccessBlock',
    'website',
    'logging',
    'replication',
  ];
  for (const sub of bucketSubresources) {
    if (has(sub)) return `${methodVerb(method)}Bucket${subresourceName(sub)}`;
  }
  switch (method) {
    case 'GET':
      return q.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
    case 'HEAD':
      return 'HeadBucket';
    case 'PUT':
      return 'CreateBucket';
    case 'DELETE':
      return 'DeleteBucket';
    case 'POST':
      return 'PostObject';
    default:
      return `${method}Bucket`;
  }
}

function methodVerb(method: string): string {
  return method === 'GET'
    ? 'Get'
    : method === 'PUT'
      ? 'Put'
      : method === 'DELETE'
        ? 'Delete'
        : method === 'HEAD'
          ? 'Head'
          : 'Post';
}

function subresourceName(sub: string): string {
  const names: Record<string, string> = {
    acl: 'Acl',
    'legal-hold': 'LegalHold',
    'object-lock': 'ObjectLockConfiguration',
    ownershipControls: 'OwnershipControls',
    publicAccessBlock: 'PublicAccessBlock',
  };
  return names[sub] ?? sub.charAt(0).toUpperCase() + sub.slice(1);
}
