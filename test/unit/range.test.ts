import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCopyRange, parseGetRange } from '../../src/api/object/range.js';
import { S3Error } from '../../src/errors.js';

const invalid = (header: string, size: number) =>
  assert.throws(() => parseGetRange(header, size), (e: unknown) => e instanceof S3Error && e.code === 'InvalidRange' && e.fields.RangeRequested === header && e.fields.ActualObjectSize === size, header);

describe('parseGetRange', () => {
  it('no header means the whole object', () => assert.equal(parseGetRange(undefined, 10), undefined));

  it('first-last, first- and -suffix give [start, end)', () => {
    assert.deepEqual(parseGetRange('bytes=0-8', 10), { start: 0, end: 9 });
    assert.deepEqual(parseGetRange('bytes=1-1', 10), { start: 1, end: 2 });
    assert.deepEqual(parseGetRange('bytes=1-', 10), { start: 1, end: 10 });
    assert.deepEqual(parseGetRange('bytes=-2', 10), { start: 8, end: 10 });
    assert.deepEqual(parseGetRange('bytes=-15', 10), { start: 0, end: 10 });
    assert.deepEqual(parseGetRange('bytes=0-100', 10), { start: 0, end: 10 });
    assert.deepEqual(parseGetRange('bytes=9-9', 10), { start: 9, end: 10 });
  });

  it('ranges that do not parse, are reversed or list several ranges are ignored (whole object), as AWS', () => {
    for (const h of ['bytes=1-0', 'bytes=-', 'bytes=0--1', 'bytes=-1-', '0-1', 'bytes=0-1,3-4', 'items=0-1', 'bytes=a-b']) {
      assert.equal(parseGetRange(h, 10), undefined, h);
    }
  });

  it('a first byte at or past the end, or a zero suffix, is 416 InvalidRange', () => {
    invalid('bytes=10-', 10);
    invalid('bytes=100-200', 10);
    invalid('bytes=-0', 10);
    invalid('bytes=0-0', 0);
  });

  it('a suffix range of an empty object is the whole (empty) object', () => {
    assert.equal(parseGetRange('bytes=-5', 0), undefined);
  });
});

describe('parseCopyRange', () => {
  it('accepts only bytes=first-last with first <= last', () => {
    assert.deepEqual(parseCopyRange('bytes=0-9'), { first: 0, last: 9 });
    assert.deepEqual(parseCopyRange('bytes=5-5'), { first: 5, last: 5 });
    for (const h of ['bytes=9-0', 'bytes=0-', 'bytes=-5', 'bytes 0-9', 'bytes=0-9,10-11', 'bytes=99999999999999999999-1']) {
      assert.equal(parseCopyRange(h), undefined, h);
    }
  });
});
