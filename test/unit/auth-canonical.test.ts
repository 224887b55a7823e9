/**
 * The canonical URI and query string S3 computes from a request as it came
 * over the wire: decode `%XX` once, re-encode everything outside the RFC 3986
 * unreserved set, never normalize the path, read `+` in a query as a space.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalHeaders, canonicalQuery, canonicalUri, parseQuery } from '../../src/auth/index.js';

describe('the canonical URI', () => {
  const cases: [raw: string, canonical: string][] = [
    ['/', '/'],
    ['', '/'],
    ['/test-bucket', '/test-bucket'],
    ['/test-bucket/a%20b/a+b', '/test-bucket/a%20b/a%2Bb'],
    ['/test-bucket/%c3%bc/%E4%B8%AD', '/test-bucket/%C3%BC/%E4%B8%AD'],
    ["/test-bucket/!*'()~=&:@$,;", '/test-bucket/%21%2A%27%28%29~%3D%26%3A%40%24%2C%3B'],
    ['/test-bucket/%21%2A%27%28%29%7E%3D%26%3A', '/test-bucket/%21%2A%27%28%29~%3D%26%3A'],
    ['/test-bucket/100%25/100%', '/test-bucket/100%25/100%25'],
    ['/test-bucket/%zz%4', '/test-bucket/%25zz%254'],
    ['/test-bucket/%FF%FE', '/test-bucket/%FF%FE'],
    ['/test-bucket//a//b/', '/test-bucket//a//b/'],
    ['/test-bucket/./../a', '/test-bucket/./../a'],
    ['/test-bucket/a%2Fb', '/test-bucket/a%2Fb'],
    ['/b/\u00fc \u{1F600}', '/b/%C3%BC%20%F0%9F%98%80'],
  ];
  for (const [raw, canonical] of cases) {
    test(`of ${JSON.stringify(raw)} is ${canonical}`, () => assert.equal(canonicalUri(raw), canonical));
  }

  test('normalization, for the generic SigV4 vectors only', () => {
    assert.equal(canonicalUri('//example//', true), '/example/');
    assert.equal(canonicalUri('/example1/example2/../..', true), '/');
    assert.equal(canonicalUri('/./example', true), '/example');
  });
});

describe('the canonical query string', () => {
  const cases: [raw: string, canonical: string][] = [
    ['', ''],
    ['b=2&a=1', 'a=1&b=2'],
    ['a=2&a=1&a=&A=3', 'A=3&a=&a=1&a=2'],
    ['acl&b=', 'acl=&b='],
    ['a=b+c&d=e%2Bf&g=%20', 'a=b%20c&d=e%2Bf&g=%20'],
    // By name first: "-" and "." sort below "=", so sorting "name=value" as text would differ.
    ['k=1&k-x=2&k.y=3&k0=4', 'k=1&k-x=2&k.y=3&k0=4'],
    ["k=%c3%bc~!*'()&l=a=b&m=a:b/c", 'k=%C3%BC~%21%2A%27%28%29&l=a%3Db&m=a%3Ab%2Fc'],
    ['a=1&&b=2&', 'a=1&b=2'],
    ['%7E=%7e', '~=~'],
    ['=x', '=x'],
  ];
  for (const [raw, canonical] of cases) {
    test(`of ${JSON.stringify(raw)} is ${JSON.stringify(canonical)}`, () => {
      assert.equal(canonicalQuery(parseQuery(raw)), canonical);
    });
  }

  test('leaves out X-Amz-Signature, in any letter case, when asked', () => {
    const params = parseQuery('X-Amz-Date=1&x-amz-SIGNATURE=abc&b=2');
    assert.equal(canonicalQuery(params, (p) => p.name.toLowerCase() === 'x-amz-signature'), 'X-Amz-Date=1&b=2');
  });

  test('hands back decoded names and values', () => {
    assert.deepEqual(
      parseQuery('prefix=a+b%2Fc&uploads').map((p) => [p.name, p.value]),
      [['prefix', 'a b/c'], ['uploads', '']],
    );
  });
});

describe('the canonical headers', () => {
  test('trim values and fold inner runs of blanks to one space', () => {
    assert.equal(canonicalHeaders(['x-amz-meta-s'], { 'x-amz-meta-s': '  a   b \t c  ' }), 'x-amz-meta-s:a b c\n');
  });

  test('join a repeated header with "," from rawHeaders, and give a missing one an empty value', () => {
    const raw = ['My-Header1', 'value2', 'Host', 'h', 'my-header1', ' value1 '];
    assert.equal(canonicalHeaders(['host', 'my-header1', 'x-amz-none'], {}, raw), 'host:h\nmy-header1:value2,value1\nx-amz-none:\n');
  });
});
