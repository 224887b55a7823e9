import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkWriteConditions, evaluateConditions } from '../../src/api/object/conditions.js';
import { S3Error } from '../../src/errors.js';
import type { VersionRow } from '../../src/meta/types.js';

const ETAG = '781e5e245d69b566979b86e28d23f2c7';
const MODIFIED = Date.parse('2026-01-10T12:00:00Z');
const NOW = Date.parse('2026-02-01T00:00:00Z');
const before = new Date(MODIFIED - 86_400_000).toUTCString();
const same = new Date(MODIFIED).toUTCString();
const after = new Date(MODIFIED + 86_400_000).toUTCString();
const future = new Date(NOW + 86_400_000).toUTCString();
const ev = (c: Parameters<typeof evaluateConditions>[0]) => evaluateConditions(c, ETAG, MODIFIED + 400, NOW);

describe('evaluateConditions (GetObject / HeadObject)', () => {
  it('no condition passes', () => assert.equal(ev({}), undefined));

  it('If-Match: the ETag (quoted, unquoted, in a list, or *) passes; another is a precondition failure', () => {
    for (const m of [`"${ETAG}"`, ETAG, `"x", "${ETAG}"`, '*', `W/"${ETAG}"`]) assert.equal(ev({ ifMatch: m }), undefined, m);
    assert.deepEqual(ev({ ifMatch: '"other"' }), { kind: 'precondition', which: 'ifMatch' });
  });

  it('If-None-Match: the ETag or * is not-modified; another passes', () => {
    assert.deepEqual(ev({ ifNoneMatch: `"${ETAG}"` }), { kind: 'not-modified', which: 'ifNoneMatch' });
    assert.deepEqual(ev({ ifNoneMatch: '*' }), { kind: 'not-modified', which: 'ifNoneMatch' });
    assert.equal(ev({ ifNoneMatch: '"other"' }), undefined);
  });

  it('If-Modified-Since at or after the modification (to the second) is not-modified; before passes; future or garbage ignored', () => {
    assert.deepEqual(ev({ ifModifiedSince: same }), { kind: 'not-modified', which: 'ifModifiedSince' });
    assert.deepEqual(ev({ ifModifiedSince: after }), { kind: 'not-modified', which: 'ifModifiedSince' });
    assert.equal(ev({ ifModifiedSince: before }), undefined);
    assert.equal(ev({ ifModifiedSince: future }), undefined);
    assert.equal(ev({ ifModifiedSince: 'not a date' }), undefined);
  });

  it('If-Unmodified-Since before the modification fails; at or after passes', () => {
    assert.deepEqual(ev({ ifUnmodifiedSince: before }), { kind: 'precondition', which: 'ifUnmodifiedSince' });
    assert.equal(ev({ ifUnmodifiedSince: same }), undefined);
    assert.equal(ev({ ifUnmodifiedSince: after }), undefined);
  });

  it("AWS's precedence: If-Match true overrides If-Unmodified-Since false; If-None-Match false overrides If-Modified-Since true", () => {
    assert.equal(ev({ ifMatch: ETAG, ifUnmodifiedSince: before }), undefined);
    assert.deepEqual(ev({ ifNoneMatch: ETAG, ifModifiedSince: before }), { kind: 'not-modified', which: 'ifNoneMatch' });
    assert.equal(ev({ ifNoneMatch: '"other"', ifModifiedSince: same }), undefined);
    assert.deepEqual(ev({ ifMatch: '"other"', ifNoneMatch: ETAG }), { kind: 'precondition', which: 'ifMatch' });
  });
});

describe('checkWriteConditions (conditional PutObject)', () => {
  const live = { etag: ETAG, deleteMarker: false } as VersionRow;
  const marker = { etag: '', deleteMarker: true } as VersionRow;
  const code = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      return e instanceof S3Error ? `${e.code}:${e.fields.Condition ?? e.fields.Key}` : String(e);
    }
    return 'ok';
  };
  it('If-None-Match * fails on a live object, passes on none or a delete marker', () => {
    assert.equal(code(() => checkWriteConditions({ ifNoneMatchStar: true }, 'k', live)), 'PreconditionFailed:If-None-Match');
    assert.equal(code(() => checkWriteConditions({ ifNoneMatchStar: true }, 'k', undefined)), 'ok');
    assert.equal(code(() => checkWriteConditions({ ifNoneMatchStar: true }, 'k', marker)), 'ok');
  });
  it('If-Match needs the live ETag; a missing key (or delete marker) is NoSuchKey', () => {
    assert.equal(code(() => checkWriteConditions({ ifNoneMatchStar: false, ifMatch: ETAG }, 'k', live)), 'ok');
    assert.equal(code(() => checkWriteConditions({ ifNoneMatchStar: false, ifMatch: 'x' }, 'k', live)), 'PreconditionFailed:If-Match');
    assert.equal(code(() => checkWriteConditions({ ifNoneMatchStar: false, ifMatch: ETAG }, 'k', undefined)), 'NoSuchKey:k');
    assert.equal(code(() => checkWriteConditions({ ifNoneMatchStar: false, ifMatch: ETAG }, 'k', marker)), 'NoSuchKey:k');
  });
});
