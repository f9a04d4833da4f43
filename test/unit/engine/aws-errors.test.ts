import test from 'ava';
import {
  awsErrorCode,
  hasErrorCode,
  httpStatusOf,
  isAbort,
  isAccessDenied,
  isConditionFailed,
  isNoSuchBucket,
  isNoSuchKey,
  isNotFound,
  isThrottled,
  isWrongRegion,
} from '../../../src/aws/errors';

/** An error shaped as the AWS SDK v3 throws them: code as name (and Code), HTTP status in $metadata. */
function sdkError(code: string, status?: number, message = code, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), {
    name: code,
    ...(status !== undefined ? { $metadata: { httpStatusCode: status } } : {}),
    ...extra,
  });
}

test('the code is Code when the body named one, else the name; the status comes from $metadata', (t) => {
  t.is(
    awsErrorCode(Object.assign(new Error('x'), { name: 'S3ServiceException', Code: 'NoSuchBucket' })),
    'NoSuchBucket',
  );
  t.is(awsErrorCode(sdkError('InvalidAMIID.NotFound', 400)), 'InvalidAMIID.NotFound');
  t.is(httpStatusOf(sdkError('NotFound', 404)), 404);
  t.is(httpStatusOf(new Error('plain')), undefined);
  for (const odd of [undefined, null, 'text', 42]) {
    t.is(awsErrorCode(odd), undefined);
    t.false(isNotFound(odd) || isConditionFailed(odd) || isThrottled(odd) || isAccessDenied(odd) || isAbort(odd));
  }
  t.true(hasErrorCode(sdkError('InvalidSubnetID.NotFound', 400), /^InvalidSubnet/));
  t.false(hasErrorCode(sdkError('InvalidGroup.NotFound', 400), /^InvalidSubnet/));
});

test('not found: S3 404s, EC2/ELB *NotFound codes, the Auto Scaling "not found" validation error', (t) => {
  for (const error of [
    sdkError('NotFound', 404),
    sdkError('NoSuchKey', 404),
    sdkError('NoSuchBucket', 404),
    sdkError('InvalidLaunchTemplateId.NotFound', 400),
    sdkError('InvalidLaunchTemplateName.NotFoundException', 400),
    sdkError('TargetGroupNotFoundException', 400),
    sdkError('ValidationError', 400, "AutoScalingGroup name not found - AutoScalingGroup 'web-v001' not found"),
  ]) {
    t.true(isNotFound(error), error.name);
  }
  t.false(isNotFound(sdkError('ValidationError', 400, 'MinSize must be at most MaxSize')));
  t.false(isNotFound(sdkError('InvalidLaunchTemplateId.Malformed', 400)));
  t.false(isNotFound(sdkError('AccessDenied', 403)));
});

test('a missing S3 key is not a missing bucket, and the other way round', (t) => {
  t.true(isNoSuchKey(sdkError('NoSuchKey', 404)));
  t.true(isNoSuchKey(sdkError('NotFound', 404)), 'HEAD of a missing key: a bare 404');
  t.false(isNoSuchKey(sdkError('NoSuchBucket', 404)));
  t.true(isNoSuchBucket(sdkError('NoSuchBucket', 404)));
  t.false(isNoSuchBucket(sdkError('NotFound', 404)), 'a bare 404 does not say which');
});

test('a lost conditional write: 412, PreconditionFailed, ConditionalRequestConflict and OperationAborted', (t) => {
  t.true(isConditionFailed(sdkError('PreconditionFailed', 412)));
  t.true(isConditionFailed(sdkError('Unknown', 412)), 'status alone is enough');
  t.true(isConditionFailed(sdkError('ConditionalRequestConflict', 409)));
  t.true(isConditionFailed(sdkError('OperationAborted', 409)));
  t.false(isConditionFailed(sdkError('BucketAlreadyOwnedByYou', 409)));
  t.false(isConditionFailed(sdkError('InternalError', 500)));
});

test('throttling and access denied are told apart from other failures', (t) => {
  for (const code of [
    'Throttling',
    'ThrottlingException',
    'RequestLimitExceeded',
    'SlowDown',
    'TooManyRequestsException',
  ])
    t.true(isThrottled(sdkError(code, 400)), code);
  t.true(isThrottled(sdkError('Anything', 429)));
  t.true(isThrottled(sdkError('Anything', 503, 'x', { $retryable: { throttling: true } })));
  t.false(isThrottled(sdkError('InternalError', 500)));
  for (const code of ['AccessDenied', 'AccessDeniedException', 'Forbidden', 'UnauthorizedOperation'])
    t.true(isAccessDenied(sdkError(code, 400)), code);
  t.true(isAccessDenied(sdkError('Unknown', 403)));
  t.false(isAccessDenied(sdkError('NoSuchKey', 404)));
  t.true(isAbort(Object.assign(new Error('aborted'), { name: 'AbortError' })));
  t.false(isAbort(sdkError('RequestTimeout', 400)));
});

test('a bucket in another region: 301 (HEAD has nothing else) or a signature for the wrong region', (t) => {
  t.true(isWrongRegion(sdkError('PermanentRedirect', 301)));
  t.true(isWrongRegion(sdkError('Unknown', 301)));
  t.true(isWrongRegion(sdkError('AuthorizationHeaderMalformed', 400)));
  t.true(isWrongRegion(sdkError('IllegalLocationConstraintException', 400)));
  t.false(isWrongRegion(sdkError('NoSuchBucket', 404)));
});
