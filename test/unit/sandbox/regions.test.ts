import test from 'ava';
import { credentialOf } from '../../../src/sandbox/aws-request';
import { CallCredentials } from '../../../src/sandbox/call-credentials';
import { parseRegions } from '../../../src/sandbox/regions';

test('--regions: region names, in order, once each; anything else is named', (t) => {
  t.deepEqual(parseRegions('us-east-1, eu-west-1,us-east-1'), { regions: ['us-east-1', 'eu-west-1'] });
  t.deepEqual(parseRegions('us-gov-west-1,ap-southeast-2'), { regions: ['us-gov-west-1', 'ap-southeast-2'] });
  t.deepEqual(parseRegions('us-east-1,europe'), { invalid: 'europe' });
  t.deepEqual(parseRegions(','), { invalid: ',' });
});

test('the credential scope names the access key id and region (header or presigned URL)', (t) => {
  t.deepEqual(
    credentialOf({
      url: '/',
      headers: {
        authorization:
          'AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20261206/eu-west-1/ec2/aws4_request, SignedHeaders=host, Signature=abc',
      },
    }),
    { accessKeyId: 'ASIAEXAMPLE', region: 'eu-west-1' },
  );
  t.deepEqual(
    credentialOf({ url: '/b/k?X-Amz-Credential=AKID%2F20261206%2Fus-east-1%2Fs3%2Faws4_request', headers: {} }),
    { accessKeyId: 'AKID', region: 'us-east-1' },
  );
  t.is(credentialOf({ url: '/', headers: {} }), undefined);
});

test('credential uses are counted per key, region and call', (t) => {
  const uses = new CallCredentials();
  uses.record('ASIA1', 'eu-west-1', 'ec2', 'DescribeVpcs');
  uses.record('ASIA1', 'eu-west-1', 'ec2', 'DescribeVpcs');
  uses.record('sandbox', 'us-east-1', 'sts', 'AssumeRole');
  t.deepEqual(uses.snapshot(), {
    uses: [
      { accessKeyId: 'ASIA1', region: 'eu-west-1', call: 'ec2:DescribeVpcs', count: 2 },
      { accessKeyId: 'sandbox', region: 'us-east-1', call: 'sts:AssumeRole', count: 1 },
    ],
    dropped: 0,
  });
});
