import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { S3Error } from '../../src/errors.js';
import { DEST_PREFIX, SOURCE_PREFIX, keyCheck, matchesKeyCheck, parseCustomerKey } from '../../src/crypto/ssec.js';

const key = randomBytes(32);
const md5 = (b: Buffer) => createHash('md5').update(b).digest('base64');
const ok = { secure: true, allowInsecure: false };

function triad(prefix: string, over: Record<string, string | undefined> = {}): Record<string, string> {
  const h: Record<string, string | undefined> = {
    [prefix + 'algorithm']: 'AES256', [prefix + 'key']: key.toString('base64'), [prefix + 'key-md5']: md5(key), ...over,
  };
  return Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

function error(fn: () => unknown): S3Error {
  try {
    fn();
  } catch (e) {
    if (e instanceof S3Error) return e;
    throw e;
  }
  throw new Error('expected an S3Error');
}

describe('SSE-C triad', () => {
  it('parses both triads', () => {
    assert.deepEqual(parseCustomerKey(triad(DEST_PREFIX), DEST_PREFIX, ok)?.key, key);
    assert.deepEqual(parseCustomerKey(triad(SOURCE_PREFIX), SOURCE_PREFIX, ok)?.key, key);
    assert.equal(parseCustomerKey(triad(SOURCE_PREFIX), DEST_PREFIX, ok), undefined);
  });

  it('refuses plain HTTP unless allowed', () => {
    const e = error(() => parseCustomerKey(triad(DEST_PREFIX), DEST_PREFIX, { secure: false, allowInsecure: false }));
    assert.equal(e.code, 'InvalidRequest');
    assert.equal(e.message, 'Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.');
    assert.ok(parseCustomerKey(triad(DEST_PREFIX), DEST_PREFIX, { secure: false, allowInsecure: true }));
  });

  it('answers AWS errors for each broken header', () => {
    const cases: Array<[Record<string, string | undefined>, string, string, string | undefined]> = [
      [{ algorithm: 'KMS' }, 'InvalidEncryptionAlgorithmError', 'The Encryption request you specified is not valid. Supported value: AES256.', 'KMS'],
      [{ algorithm: undefined }, 'InvalidArgument', 'Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.', undefined],
      [{ key: undefined }, 'InvalidArgument', 'Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.', undefined],
      [{ key: randomBytes(16).toString('base64') }, 'InvalidArgument', 'The secret key was invalid for the specified algorithm.', undefined],
      [{ 'key-md5': md5(randomBytes(3)) }, 'InvalidArgument', 'The calculated MD5 hash of the key did not match the hash that was provided.', undefined],
      [{ 'key-md5': undefined }, 'InvalidArgument', 'The secret key was invalid for the specified algorithm.', undefined],
    ];
    for (const [over, code, message, value] of cases) {
      const prefixed = Object.fromEntries(Object.entries(over).map(([k, v]) => [DEST_PREFIX + k, v]));
      const e = error(() => parseCustomerKey(triad(DEST_PREFIX, prefixed), DEST_PREFIX, ok));
      assert.equal(e.code, code, JSON.stringify(over));
      assert.equal(e.message, message);
      assert.equal(e.status, 400);
      assert.equal(e.fields.ArgumentName, 'x-amz-server-side-encryption');
      assert.equal(e.fields.ArgumentValue, value);
    }
  });

  it('key checks recognise the same key and only it, salted', () => {
    const a = keyCheck(key);
    const b = keyCheck(key);
    assert.notEqual(a, b);
    assert.ok(matchesKeyCheck(key, a) && matchesKeyCheck(key, b));
    assert.ok(!matchesKeyCheck(randomBytes(32), a));
    assert.ok(!a.includes(key.toString('base64')));
    assert.ok(!matchesKeyCheck(key, 'garbage'));
  });
});
