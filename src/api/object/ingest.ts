import { S3Error } from '../../errors.js';
import type { RequestContext } from '../context.js';
import { CHECKSUM_ALGORITHMS, checksumHeader, isValidChecksumValue, parseChecksumAlgorithm, type ChecksumAlgorithm } from '../../util/checksum.js';
import type { Kek } from '../../crypto/envelope.js';
import { BodyIncomplete, BodyTooLarge, ingestBody, type Ingested } from '../../engine/ingest.js';

export const MAX_OBJECT_SIZE = 5 * 1024 ** 3;

/** A checksum algorithm a request names (`x-amz-checksum-algorithm`, `x-amz-sdk-checksum-algorithm`), or InvalidRequest. */
export function checksumAlgorithmOf(raw: string): ChecksumAlgorithm {
  const algorithm = parseChecksumAlgorithm(raw);
  if (!algorithm) throw new S3Error('InvalidRequest', 'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]');
  return algorithm;
}

/** Which flexible checksum a request carries: a value in a header, or an algorithm whose value trails the body. */
export interface ChecksumRequest {
  algorithm: ChecksumAlgorithm;
  /** The expected base64 value when it came as a header. */
  expected?: string;
}

/**
 * Reads the checksum headers of an upload: at most one `x-amz-checksum-*`
 * value, or a trailer announced by `x-amz-trailer`, or only
 * `x-amz-sdk-checksum-algorithm` (then Tessera computes that algorithm).
 */
export function checksumRequest(ctx: RequestContext): ChecksumRequest | undefined {
  const present = CHECKSUM_ALGORITHMS.filter((a) => ctx.headers[checksumHeader(a)] !== undefined);
  if (present.length > 1) throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  if (present.length === 1) {
    const algorithm = present[0];
    const expected = String(ctx.headers[checksumHeader(algorithm)]);
    if (!isValidChecksumValue(algorithm, expected)) throw new S3Error('InvalidRequest', `Value for ${checksumHeader(algorithm)} header is invalid.`);
    return { algorithm, expected };
  }
  const trailer = ctx.headers['x-amz-trailer'];
  if (typeof trailer === 'string' && trailer.toLowerCase().startsWith('x-amz-checksum-')) {
    const algorithm = parseChecksumAlgorithm(trailer.toLowerCase().slice('x-amz-checksum-'.length));
    if (!algorithm) throw new S3Error('InvalidRequest', 'The value specified in the x-amz-trailer header is not supported');
    return { algorithm };
  }
  const sdk = ctx.headers['x-amz-sdk-checksum-algorithm'];
  if (typeof sdk === 'string') {
    return { algorithm: checksumAlgorithmOf(sdk) };
  }
  return undefined;
}

/** Validates Content-MD5 (base64 of 16 bytes) and returns it, or undefined. */
export function contentMd5(ctx: RequestContext): Buffer | undefined {
  const v = ctx.headers['content-md5'];
  if (v === undefined) return undefined;
  const b = Buffer.from(String(v), 'base64');
  if (b.length !== 16 || b.toString('base64') !== String(v).trim()) throw new S3Error('InvalidDigest', undefined, { 'Content-MD5': String(v) });
  return b;
}

/** The body's length as the client declared it (decoded length for aws-chunked), or undefined. */
export function declaredLength(ctx: RequestContext): number | undefined {
  const raw = ctx.headers['x-amz-decoded-content-length'] ?? ctx.headers['content-length'];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new S3Error('InvalidArgument', 'Invalid Content-Length');
  return n;
}

/**
 * Streams the request body into storage (engine/ingest.ts) as its headers
 * describe it, then holds it to what they promised: the declared length,
 * Content-MD5, and the flexible checksum of a header or trailer, verified
 * before anything is referenced (on a mismatch the blob is removed).
 */
export async function ingest(ctx: RequestContext, opts: { maxSize: number; checksum?: ChecksumRequest; extra?: ChecksumAlgorithm; encryption?: Kek }): Promise<Ingested> {
  const declared = declaredLength(ctx);
  if (declared === undefined && ctx.headers['transfer-encoding'] === undefined) throw new S3Error('MissingContentLength');
  if (declared !== undefined && declared > opts.maxSize) {
    throw new S3Error('EntityTooLarge', undefined, { ProposedSize: declared, MaxSizeAllowed: opts.maxSize });
  }
  const md5Expected = contentMd5(ctx);
  const body = ctx.body();
  let result: Ingested;
  try {
    result = await ingestBody(ctx.deps, body, { declared, maxSize: opts.maxSize, checksum: opts.checksum?.algorithm, extra: opts.extra, encryption: opts.encryption });
  } catch (e) {
    if (e instanceof BodyTooLarge) throw new S3Error('EntityTooLarge', undefined, { ProposedSize: e.size, MaxSizeAllowed: e.maxSize });
    if (e instanceof BodyIncomplete) throw new S3Error('IncompleteBody');
    if (!(e instanceof S3Error) && (ctx.signal.aborted || (e as NodeJS.ErrnoException).code === 'ECONNRESET' || (e as Error).message === 'aborted')) {
      throw new S3Error('IncompleteBody');
    }
    throw e;
  }
  try {
    if (md5Expected && !md5Expected.equals(result.md5)) {
      throw new S3Error('BadDigest', undefined, { ExpectedDigest: md5Expected.toString('hex'), CalculatedDigest: result.md5.toString('base64') });
    }
    if (opts.checksum) verifyChecksum(opts.checksum, result.checksum!.value, body.trailers);
  } catch (e) {
    await result.discard();
    throw e;
  }
  ctx.bytesIn = result.size;
  return result;
}

function verifyChecksum(req: ChecksumRequest, computed: string, trailers: Record<string, string>): void {
  const expected = req.expected ?? trailers[checksumHeader(req.algorithm)];
  if (expected === undefined) return; // algorithm named without a value: computed and stored
  if (req.expected === undefined && !isValidChecksumValue(req.algorithm, expected)) {
    throw new S3Error('InvalidRequest', `Value for ${checksumHeader(req.algorithm)} trailing header is invalid.`);
  }
  if (expected !== computed) throw new S3Error('BadDigest', `The ${req.algorithm} you specified did not match the calculated checksum.`);
}

