/**
 * authenticate() on header-signed and presigned requests: what is accepted,
 * and the exact S3 error for what is not. Requests are signed by the AWS
 * SDK's own signer (@smithy/signature-v4), then edited.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { buildQueryString } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import { authenticate, createAuthenticator, type AuthRequest } from '../../src/auth/index.js';
import type { S3Error } from '../../src/errors.js';
import { DOC_CREDENTIALS, EMPTY_SHA256, lookupOf, NodeSha256, rejection, sha256Hex, wireRequest } from './fixtures/sigv4/helpers.js';

const T0 = new Date(Date.UTC(2013, 4, 24, 0, 0, 0));
const HOST = 'examplebucket.s3.amazonaws.com';
const lookup = lookupOf(DOC_CREDENTIALS);
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

function signer(region = 'us-east-1', secretAccessKey = DOC_CREDENTIALS.secretAccessKey) {
  return new SignatureV4({
    credentials: { accessKeyId: DOC_CREDENTIALS.accessKeyId, secretAccessKey },
    region,
    service: 's3',
    sha256: NodeSha256,
    uriEscapePath: false,
  });
}

interface Options {
  path?: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  date?: Date;
  region?: string;
  secret?: string;
}

async function signed(o: Options = {}): Promise<AuthRequest> {
  const request = {
    method: 'GET',
    protocol: 'https:',
    hostname: HOST,
    path: o.path ?? '/key',
    query: o.query ?? {},
    headers: { host: HOST, 'x-amz-content-sha256': EMPTY_SHA256, ...o.headers },
  };
  const out = await signer(o.region, o.secret).sign(request, { signingDate: o.date ?? T0 });
  return wireRequest(out as never, buildQueryString);
}

async function presigned(o: Options & { expiresIn?: number } = {}): Promise<AuthRequest> {
  const request = {
    method: 'PUT',
    protocol: 'https:',
    hostname: HOST,
    path: o.path ?? '/key',
    query: o.query ?? {},
    // As @aws-sdk/s3-request-presigner does: the payload is UNSIGNED-PAYLOAD, and the
    // signer hoists this header (and any other x-amz-*) into the query string.
    headers: { host: HOST, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...o.headers },
  };
  const out = await signer(o.region, o.secret).presign(request, { signingDate: o.date ?? T0, expiresIn: o.expiresIn ?? 60 });
  return wireRequest(out as never, buildQueryString);
}

const expectError = async (req: AuthRequest, now: Date, code: string, message?: string, fields?: Record<string, unknown>) => {
  const e: S3Error = await rejection(authenticate(req, lookup, { now }));
  assert.equal(e.code, code, `${e.code}: ${e.message}`);
  if (message !== undefined) assert.equal(e.message, message);
  if (fields) for (const [k, v] of Object.entries(fields)) assert.equal(String(e.fields[k]), String(v), k);
  return e;
};

const edit = (req: AuthRequest, change: (r: AuthRequest) => void): AuthRequest => {
  const copy = { ...req, headers: { ...req.headers } };
  change(copy);
  return copy;
};
const editAuth = (req: AuthRequest, from: string | RegExp, to: string) =>
  edit(req, (r) => (r.headers.authorization = String(r.headers.authorization).replace(from, to)));

const MALFORMED = 'The authorization header is malformed; ';

describe('the Authorization header', () => {
  test('a request signed by the SDK signer is accepted, with the account of its key', async () => {
    const auth = await authenticate(await signed(), lookup, { now: T0 });
    assert.equal(auth.anonymous, false);
    assert.equal(auth.method, 'header');
    assert.deepEqual(auth.credentials, DOC_CREDENTIALS);
    assert.equal(auth.scope, '20130524/us-east-1/s3/aws4_request');
    assert.deepEqual(auth.payload, { kind: 'sha256', expected: EMPTY_SHA256 });
  });

  test('any region is accepted', async () => {
    for (const region of ['eu-west-1', 'auto', 'us-gov-west-1']) {
      const auth = await authenticate(await signed({ region }), lookup, { now: T0 });
      assert.equal(auth.region, region);
    }
  });

  test('the signature in upper case is accepted', async () => {
    const req = await signed();
    const upper = editAuth(req, /Signature=(\w+)$/, `Signature=${/Signature=(\w+)$/.exec(String(req.headers.authorization))![1]!.toUpperCase()}`);
    assert.equal((await authenticate(upper, lookup, { now: T0 })).anonymous, false);
  });

  test('the Date header stands in for x-amz-date', async () => {
    // Signed by hand (the smithy signer always adds x-amz-date): HMAC chain of the S3 docs.
    const date = 'Fri, 24 May 2013 00:00:00 GMT';
    const signedHeaders = 'date;host;x-amz-content-sha256';
    const canonical = `GET\n/key\n\ndate:${date}\nhost:${HOST}\nx-amz-content-sha256:${EMPTY_SHA256}\n\n${signedHeaders}\n${EMPTY_SHA256}`;
    const scope = '20130524/us-east-1/s3/aws4_request';
    const toSign = `AWS4-HMAC-SHA256\n20130524T000000Z\n${scope}\n${sha256Hex(canonical)}`;
    let key: Buffer = createHmac('sha256', 'AWS4' + DOC_CREDENTIALS.secretAccessKey).update('20130524').digest();
    for (const part of ['us-east-1', 's3', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
    const signature = createHmac('sha256', key).update(toSign).digest('hex');
    const req: AuthRequest = {
      method: 'GET', rawPath: '/key', rawQuery: '',
      headers: {
        host: HOST, date, 'x-amz-content-sha256': EMPTY_SHA256,
        authorization: `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
      },
    };
    const auth = await authenticate(req, lookup, { now: T0 });
    assert.equal(auth.amzDate, '20130524T000000Z');
    await expectError(req, at(901), 'RequestTimeTooSkewed', undefined, { RequestTime: date });
  });

  test('an unsigned request is anonymous; an empty Authorization header too', async () => {
    const plain: AuthRequest = { method: 'GET', rawPath: '/b/k', rawQuery: 'a=1', headers: { host: HOST } };
    assert.deepEqual(await authenticate(plain, lookup), { anonymous: true, payload: { kind: 'unsigned' } });
    const empty = { ...plain, headers: { host: HOST, authorization: '' } };
    assert.equal((await authenticate(empty, lookup)).anonymous, true);
  });

  const three = MALFORMED + 'the authorization header requires three components: Credential, SignedHeaders, and Signature.';
  const cases: [string, (r: AuthRequest) => AuthRequest, string, string?, Record<string, unknown>?][] = [
    ['no Credential', (r) => editAuth(r, /Credential=[^,]+, /, ''), 'AuthorizationHeaderMalformed', three],
    ['no SignedHeaders', (r) => editAuth(r, /SignedHeaders=[^,]+, /, ''), 'AuthorizationHeaderMalformed', three],
    ['no Signature', (r) => editAuth(r, /, Signature=.*/, ''), 'AuthorizationHeaderMalformed', three],
    ['a credential of four parts', (r) => editAuth(r, '/us-east-1/', '/'), 'AuthorizationHeaderMalformed',
      MALFORMED + 'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'],
    ['a scope date of seven digits', (r) => editAuth(r, '/20130524/', '/2013052/'), 'AuthorizationHeaderMalformed',
      MALFORMED + 'incorrect date format "2013052". This date in the credential must be in the format "yyyyMMdd".'],
    ['another service', (r) => editAuth(r, '/s3/', '/ec2/'), 'AuthorizationHeaderMalformed',
      MALFORMED + 'incorrect service "ec2". This endpoint belongs to "s3".'],
    ['another terminator', (r) => editAuth(r, 'aws4_request', 'aws4_reques'), 'AuthorizationHeaderMalformed',
      MALFORMED + 'incorrect terminal "aws4_reques". This endpoint uses "aws4_request".'],
    ['a scope date other than the request date', (r) => editAuth(r, '/20130524/', '/20130523/'), 'AuthorizationHeaderMalformed',
      MALFORMED + 'Invalid credential date "20130523". This date is not the same as X-Amz-Date: "20130524".'],
    ['Signature Version 2', (r) => edit(r, (x) => (x.headers.authorization = 'AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=')),
      'InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.'],
    ['the Bearer scheme', (r) => edit(r, (x) => (x.headers.authorization = 'Bearer token')), 'InvalidArgument',
      'Unsupported Authorization Type', { ArgumentName: 'Authorization', ArgumentValue: 'Bearer token' }],
    ['presign parameters as well', (r) => edit(r, (x) => (x.rawQuery = 'X-Amz-Algorithm=AWS4-HMAC-SHA256')), 'InvalidArgument',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
      { ArgumentName: 'Authorization' }],
    ['no x-amz-content-sha256', (r) => edit(r, (x) => delete x.headers['x-amz-content-sha256']), 'InvalidRequest',
      'Missing required header for this request: x-amz-content-sha256'],
    ['an x-amz-content-sha256 that is not a hash', (r) => edit(r, (x) => (x.headers['x-amz-content-sha256'] = EMPTY_SHA256.slice(1))),
      'InvalidArgument', undefined, { ArgumentName: 'x-amz-content-sha256', ArgumentValue: EMPTY_SHA256.slice(1) }],
    ['an ECDSA (SigV4a) streaming payload', (r) => edit(r, (x) => (x.headers['x-amz-content-sha256'] = 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD')),
      'NotImplemented'],
    ['no date', (r) => edit(r, (x) => delete x.headers['x-amz-date']), 'AccessDenied',
      'AWS authentication requires a valid Date or x-amz-date header'],
    ['an x-amz-date in another format', (r) => edit(r, (x) => (x.headers['x-amz-date'] = '2013-05-24T00:00:00Z')), 'AccessDenied',
      'AWS authentication requires a valid Date or x-amz-date header'],
    ['an x-amz-* header that is not signed', (r) => edit(r, (x) => (x.headers['x-amz-meta-color'] = 'red')), 'AccessDenied',
      'There were headers present in the request which were not signed', { HeadersNotSigned: 'x-amz-meta-color' }],
    ['host not signed', (r) => editAuth(r, 'SignedHeaders=host;', 'SignedHeaders='), 'AccessDenied',
      'There were headers present in the request which were not signed', { HeadersNotSigned: 'host' }],
    ['an unknown access key', (r) => editAuth(r, 'AKIAIOSFODNN7EXAMPLE', 'AKIAUNKNOWN'), 'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: 'AKIAUNKNOWN' }],
    ['another path', (r) => edit(r, (x) => (x.rawPath = '/other')), 'SignatureDoesNotMatch'],
    ['another query', (r) => edit(r, (x) => (x.rawQuery = 'versionId=null')), 'SignatureDoesNotMatch'],
    ['another method', (r) => edit(r, (x) => (x.method = 'DELETE')), 'SignatureDoesNotMatch'],
    ['another value of a signed header', (r) => edit(r, (x) => (x.headers.host = 'other.s3.amazonaws.com')), 'SignatureDoesNotMatch'],
  ];
  for (const [name, change, code, message, fields] of cases) {
    test(`with ${name}: ${code}`, async () => {
      await expectError(change(await signed()), T0, code, message, fields);
    });
  }

  // A bogus first value, then the signer's own: with the last one winning, each of these was accepted.
  for (const name of ['Credential', 'SignedHeaders', 'Signature']) {
    test(`with two ${name} components: AuthorizationHeaderMalformed naming the second`, async () => {
      const req = await signed();
      const auth = String(req.headers.authorization);
      const own = new RegExp(`${name}=[^,]+`).exec(auth)![0];
      const bogus = { Credential: 'Credential=AKIAOTHER/20130524/us-east-1/s3/aws4_request', SignedHeaders: 'SignedHeaders=host', Signature: `Signature=${'0'.repeat(64)}` }[name];
      const twice = editAuth(req, own, `${bogus}, ${own}`);
      await expectError(twice, T0, 'AuthorizationHeaderMalformed', MALFORMED + `the authorization component "${own}" is malformed.`);
      assert.equal((await authenticate(req, lookup, { now: T0 })).anonymous, false, 'the header as signed is accepted');
    });
  }

  test('with the signature of another secret: SignatureDoesNotMatch with the strings the server signed', async () => {
    const req = await signed({ secret: 'other', query: { prefix: 'a b' } });
    const e = await expectError(req, T0, 'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
    const headers = `host:${HOST}\nx-amz-content-sha256:${EMPTY_SHA256}\nx-amz-date:20130524T000000Z\n`;
    const canonical = `GET\n/key\nprefix=a%20b\n${headers}\nhost;x-amz-content-sha256;x-amz-date\n${EMPTY_SHA256}`;
    assert.deepEqual(Object.keys(e.fields), ['AWSAccessKeyId', 'StringToSign', 'SignatureProvided', 'StringToSignBytes', 'CanonicalRequest', 'CanonicalRequestBytes']);
    assert.equal(e.fields.CanonicalRequest, canonical);
    assert.match(String(e.fields.StringToSign), /^AWS4-HMAC-SHA256\n20130524T000000Z\n20130524\/us-east-1\/s3\/aws4_request\n[0-9a-f]{64}$/);
    assert.match(String(e.fields.StringToSignBytes), /^41 57 53 34 2d 48 4d 41 43/);
    assert.equal(e.fields.AWSAccessKeyId, DOC_CREDENTIALS.accessKeyId);
  });

  const skewed = 'The difference between the request time and the current time is too large.';
  for (const [seconds, ok] of [[-900, true], [900, true], [-901, false], [901, false]] as const) {
    test(`a request ${seconds} s from the server clock is ${ok ? 'accepted' : 'RequestTimeTooSkewed'}`, async () => {
      const req = await signed({ date: at(seconds) });
      if (ok) return void (await authenticate(req, lookup, { now: T0 }));
      await expectError(req, T0, 'RequestTimeTooSkewed', skewed, {
        RequestTime: req.headers['x-amz-date'],
        ServerTime: '2013-05-24T00:00:00Z',
        MaxAllowedSkewMilliseconds: 900000,
      });
    });
  }

  test('the key and the signature are checked before the time', async () => {
    const late = await signed({ date: at(3600) });
    await expectError(editAuth(late, /Signature=\w+/, 'Signature=00'), T0, 'SignatureDoesNotMatch');
    await expectError(editAuth(late, 'AKIAIOSFODNN7EXAMPLE', 'AKIAUNKNOWN'), T0, 'InvalidAccessKeyId');
  });

  test('a streaming payload without x-amz-decoded-content-length: 411 MissingContentLength', async () => {
    const req = await signed({ headers: { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' } });
    const e = await expectError(req, T0, 'MissingContentLength');
    assert.equal(e.status, 411);
  });

  test('createAuthenticator uses its own clock and skew', async () => {
    const auth = createAuthenticator(lookup, { now: () => at(100), maxSkewMs: 60_000 });
    await assert.rejects(auth.authenticate(await signed()), { code: 'RequestTimeTooSkewed' });
    assert.equal((await auth.authenticate(await signed({ date: at(90) }))).anonymous, false);
  });
});

describe('a presigned URL', () => {
  const REQUIRED =
    'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.';
  const setParam = (req: AuthRequest, name: string, value: string | undefined) =>
    edit(req, (r) => {
      const params = new URLSearchParams(r.rawQuery);
      if (value === undefined) params.delete(name);
      else params.set(name, value);
      r.rawQuery = params.toString();
    });

  test('signed by the SDK signer, with signed metadata, is accepted as UNSIGNED-PAYLOAD', async () => {
    const req = await presigned({ headers: { 'x-amz-meta-color': 'red' }, query: { 'x-id': 'PutObject' } });
    // The smithy signer hoists x-amz-meta-* into the query; send it as a header as well, signed.
    const auth = await authenticate(req, lookup, { now: T0 });
    assert.equal(auth.method, 'presigned');
    assert.deepEqual(auth.payload, { kind: 'unsigned' });
  });

  test('parameter names in another letter case are accepted', async () => {
    const req = await presigned();
    const lower = edit(req, (r) => (r.rawQuery = r.rawQuery.replace('X-Amz-Signature=', 'x-amz-SIGNATURE=')));
    assert.equal((await authenticate(lower, lookup, { now: T0 })).method, 'presigned');
  });

  test('an unsigned x-amz-content-sha256 header is ignored', async () => {
    const req = edit(await presigned(), (r) => (r.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD'));
    assert.equal((await authenticate(req, lookup, { now: T0 })).method, 'presigned');
  });

  for (const name of ['Algorithm', 'Credential', 'Signature', 'Date', 'SignedHeaders', 'Expires']) {
    test(`without X-Amz-${name}: AuthorizationQueryParametersError`, async () => {
      await expectError(setParam(await presigned(), `X-Amz-${name}`, undefined), T0, 'AuthorizationQueryParametersError', REQUIRED);
    });
  }

  const cases: [string, string, string, string][] = [
    ['another algorithm', 'X-Amz-Algorithm', 'AWS4-HMAC-SHA1', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256 and AWS4-ECDSA-P256-SHA256"'],
    ['an X-Amz-Date in another format', 'X-Amz-Date', '2013-05-24T00:00:00Z', `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`],
    ['X-Amz-Expires=604801', 'X-Amz-Expires', '604801',
      'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds'],
    ['X-Amz-Expires=-1', 'X-Amz-Expires', '-1', 'X-Amz-Expires must be non-negative'],
    ['X-Amz-Expires=1h', 'X-Amz-Expires', '1h', 'X-Amz-Expires should be a number'],
    ['a credential of another service', 'X-Amz-Credential', 'AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/ec2/aws4_request',
      'Error parsing the X-Amz-Credential parameter; incorrect service "ec2". This endpoint belongs to "s3".'],
    ['a mal-formed credential', 'X-Amz-Credential', 'AKIAIOSFODNN7EXAMPLE/20130524/s3/aws4_request',
      'Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'],
  ];
  for (const [name, param, value, message] of cases) {
    test(`with ${name}: AuthorizationQueryParametersError`, async () => {
      await expectError(setParam(await presigned(), param, value), T0, 'AuthorizationQueryParametersError', message);
    });
  }

  test('with an unknown access key: InvalidAccessKeyId', async () => {
    const req = setParam(await presigned(), 'X-Amz-Credential', 'AKIAUNKNOWN/20130524/us-east-1/s3/aws4_request');
    await expectError(req, T0, 'InvalidAccessKeyId', undefined, { AWSAccessKeyId: 'AKIAUNKNOWN' });
  });

  test('with one more parameter, another value, another path or lower-cased names: SignatureDoesNotMatch', async () => {
    const req = await presigned({ query: { 'x-id': 'PutObject' } });
    await expectError(edit(req, (r) => (r.rawQuery += '&versionId=null')), T0, 'SignatureDoesNotMatch');
    await expectError(setParam(req, 'x-id', 'GetObject'), T0, 'SignatureDoesNotMatch');
    await expectError(edit(req, (r) => (r.rawPath = '/other')), T0, 'SignatureDoesNotMatch');
    await expectError(edit(req, (r) => (r.rawQuery = r.rawQuery.replace(/X-Amz-(Date|Expires)=/g, (m) => m.toLowerCase()))), T0, 'SignatureDoesNotMatch');
  });

  test('with an x-amz-* header that is not signed: AccessDenied', async () => {
    const req = edit(await presigned(), (r) => (r.headers['x-amz-meta-size'] = '1'));
    await expectError(req, T0, 'AccessDenied', 'There were headers present in the request which were not signed', { HeadersNotSigned: 'x-amz-meta-size' });
  });

  test('is valid from X-Amz-Date until X-Amz-Expires seconds later, then "Request has expired"', async () => {
    const req = await presigned({ expiresIn: 60 });
    await authenticate(req, lookup, { now: at(60) });
    await expectError(req, new Date(at(60).getTime() + 1), 'AccessDenied', 'Request has expired', {
      'X-Amz-Expires': 60,
      Expires: '2013-05-24T00:01:00Z',
      ServerTime: '2013-05-24T00:01:00Z',
    });
    const week = await presigned({ expiresIn: 604800 });
    await authenticate(week, lookup, { now: at(604800) });
    await expectError(week, at(604801), 'AccessDenied', 'Request has expired');
  });

  test('with X-Amz-Expires=0 it has always expired', async () => {
    const req = await presigned({ expiresIn: 0 });
    assert.match(req.rawQuery, /X-Amz-Expires=0/);
    await expectError(req, T0, 'AccessDenied', 'Request has expired', { 'X-Amz-Expires': 0 });
  });

  test('more than 15 minutes before X-Amz-Date: "Request is not valid yet"', async () => {
    await authenticate(await presigned({ date: at(900) }), lookup, { now: T0 });
    await expectError(await presigned({ date: at(901) }), T0, 'AccessDenied', 'Request is not valid yet', {
      'X-Amz-Date': '20130524T001501Z',
      ServerTime: '2013-05-24T00:00:00Z',
    });
  });

  test('the signature is checked before the expiry', async () => {
    const req = await presigned({ expiresIn: 60 });
    await expectError(setParam(req, 'X-Amz-Signature', '00'), at(3600), 'SignatureDoesNotMatch');
  });

  test('Signature Version 2 query parameters: InvalidRequest', async () => {
    const req: AuthRequest = { method: 'GET', rawPath: '/k', rawQuery: 'AWSAccessKeyId=AKIA&Signature=abc%3D&Expires=1', headers: { host: HOST } };
    await expectError(req, T0, 'InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
  });
});
