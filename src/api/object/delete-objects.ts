import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { S3Error } from '../../errors.js';
import { type Handler, type RequestContext } from '../context.js';
import { countElements, xmlDocument, type XmlObject } from '../xml.js';
import { s3ErrorOf } from '../error-response.js';
import { checksumBase64, checksumHeader } from '../../util/checksum.js';
import { readBody } from '../body.js';
import { checksumRequest } from './ingest.js';
import { deleteOne } from './object.js';
import { authorizeKey } from '../access/authorize.js';

/**
 * DeleteObjects (POST ?delete): up to 1000 keys in one request, each deleted
 * as DeleteObject would (a delete marker in a versioned bucket, or the named
 * version), each answered on its own: Deleted (with DeleteMarker and
 * DeleteMarkerVersionId where a marker was made or removed) or Error. Quiet
 * mode lists errors only. The body must carry Content-MD5 or a flexible
 * checksum, and it must match.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html
 */

const MAX_OBJECTS = 1000;
const MAX_KEY_BYTES = 1024;
/** 1000 keys of 1024 bytes, each character escaped, with version ids: well under this. */
const MAX_BODY = 8 * 1024 * 1024;
/** How many keys are deleted at once; their commits share group commits. */
const PARALLEL = 16;

interface ObjectIdentifier {
  key: string;
  versionId?: string;
}

/** Values are kept exactly (keys may start or end with spaces), so entities are decoded here, once. */
const parser = new XMLParser({
  ignoreAttributes: true, parseTagValue: false, trimValues: false, processEntities: false, ignoreDeclaration: true, removeNSPrefix: true,
  isArray: (_name, jpath) => jpath === 'Delete.Object',
});

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (_m, ref: string) => {
    if (ref[0] !== '#') {
      if (!(ref in ENTITIES)) throw new S3Error('MalformedXML');
      return ENTITIES[ref];
    }
    const cp = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    if (!(cp <= 0x10ffff) || (cp >= 0xd800 && cp <= 0xdfff)) throw new S3Error('MalformedXML');
    return String.fromCodePoint(cp);
  });
}

function text(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new S3Error('MalformedXML');
  return decodeEntities(v);
}

/** The `<Delete>` document: its objects and Quiet flag; anything malformed is MalformedXML. */
function parseDelete(body: string): { objects: ObjectIdentifier[]; quiet: boolean } {
  if (body.trim() === '' || /<!DOCTYPE/i.test(body)) throw new S3Error('MalformedXML');
  // More <Object> tags than a request may list is MalformedXML whatever else the body holds: counted before the
  // parse, which would otherwise build every one of them (an 8 MiB body can hold 100,000).
  if (countElements(body, 'Object', MAX_OBJECTS + 1) > MAX_OBJECTS || XMLValidator.validate(body) !== true) throw new S3Error('MalformedXML');
  let doc: any;
  try {
    doc = parser.parse(body);
  } catch {
    throw new S3Error('MalformedXML');
  }
  const roots = Object.keys(doc ?? {});
  const del = doc?.Delete;
  if (roots.length !== 1 || typeof del !== 'object' || del === null) throw new S3Error('MalformedXML');
  const list: unknown[] = del.Object ?? [];
  if (list.length === 0 || list.length > MAX_OBJECTS) throw new S3Error('MalformedXML');
  const objects = list.map((o: any) => {
    if (typeof o !== 'object' || o === null) throw new S3Error('MalformedXML');
    const key = text(o.Key);
    if (key === undefined || key === '') throw new S3Error('MalformedXML');
    return { key, versionId: text(o.VersionId) };
  });
  const quiet = (text(del.Quiet) ?? 'false').trim();
  if (quiet !== 'true' && quiet !== 'false') throw new S3Error('MalformedXML');
  return { objects, quiet: quiet === 'true' };
}

/** Reads the body and checks Content-MD5 or the flexible checksum, one of which AWS requires here. */
async function readVerifiedBody(ctx: RequestContext): Promise<string> {
  const sum = checksumRequest(ctx);
  const hasMd5 = ctx.headers['content-md5'] !== undefined;
  const announced = sum?.expected !== undefined || ctx.headers['x-amz-trailer'] !== undefined;
  if (!hasMd5 && !announced) throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5 OR x-amz-checksum-*');
  const body = await readBody(ctx, MAX_BODY);
  if (sum) {
    const expected = sum.expected ?? ctx.body().trailers[checksumHeader(sum.algorithm)];
    if (expected === undefined && !hasMd5) throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5 OR x-amz-checksum-*');
    if (expected !== undefined && expected !== checksumBase64(sum.algorithm, Buffer.from(body, 'utf8'))) {
      throw new S3Error('BadDigest', `The ${sum.algorithm} you specified did not match the calculated checksum.`);
    }
  }
  return body;
}

/** One key's answer: a `Deleted` or an `Error` entry. */
async function deleteEntry(ctx: RequestContext, o: ObjectIdentifier): Promise<{ deleted?: XmlObject; error?: XmlObject }> {
  try {
    if (Buffer.byteLength(o.key) > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError');
    await authorizeKey(ctx, 'DeleteObject', o.key, o.versionId);
    const h = await deleteOne(ctx, o.key, o.versionId ?? null);
    const marker = h['x-amz-delete-marker'] === 'true';
    return { deleted: { Key: o.key, VersionId: o.versionId, DeleteMarker: marker || undefined, DeleteMarkerVersionId: marker ? String(h['x-amz-version-id']) : undefined } };
  } catch (e) {
    let err = s3ErrorOf(e);
    if (!err) {
      ctx.deps.log.error({ err: e, key: o.key, requestId: ctx.requestId }, 'DeleteObjects: key failed');
      err = new S3Error('InternalError');
    }
    // A version id the bucket cannot have is, key by key, a version that does not exist (recorded).
    if (err.code === 'InvalidArgument' && err.fields.ArgumentName === 'versionId') err = new S3Error('NoSuchVersion');
    return { error: { Key: o.key, VersionId: o.versionId, Code: err.code, Message: err.message } };
  }
}

export const DeleteObjects: Handler = async (ctx) => {
  const { objects, quiet } = parseDelete(await readVerifiedBody(ctx));
  const results: Array<{ deleted?: XmlObject; error?: XmlObject }> = new Array(objects.length);
  let next = 0;
  const worker = async () => {
    while (next < objects.length) {
      const i = next++;
      results[i] = await deleteEntry(ctx, objects[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, objects.length) }, worker));
  const body = xmlDocument('DeleteResult', {
    Deleted: quiet ? [] : results.flatMap((r) => (r.deleted ? [r.deleted] : [])),
    Error: results.flatMap((r) => (r.error ? [r.error] : [])),
  });
  return { status: 200, headers: { 'content-type': 'application/xml' }, body };
};
