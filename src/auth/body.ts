/**
 * The request body as the operations read it: aws-chunked framing removed,
 * and every integrity promise of the signature kept (the SHA-256 of the body,
 * the chunk and trailer signatures, the declared lengths). A broken promise is
 * an S3Error emitted on the stream before 'end'.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
 */
import { createHash, type Hash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { S3Error } from '../errors.js';
import { AwsChunkedDecoder, type ChunkSigning } from './chunked.js';
import { decodedContentLength } from './payload.js';
import type { AuthResult, DecodedBody } from './types.js';

const DEFAULT_MIN_CHUNK = 8192;
const TRAILER_NAMES = new Set([
  'x-amz-checksum-crc32',
  'x-amz-checksum-crc32c',
  'x-amz-checksum-crc64nvme',
  'x-amz-checksum-sha1',
  'x-amz-checksum-sha256',
]);

/**
 * Passes a body through unchanged, counting it against Content-Length and,
 * for a signed SHA-256, hashing it.
 */
class PlainBody extends Transform implements DecodedBody {
  trailers: Record<string, string> = {};
  readonly #hash: Hash | null;
  readonly #expected: string | undefined;
  readonly #length: number | undefined;
  #received = 0;

  constructor(expectedSha256: string | undefined, contentLength: number | undefined) {
    super();
    this.#expected = expectedSha256;
    this.#hash = expectedSha256 === undefined ? null : createHash('sha256');
    this.#length = contentLength;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#received += chunk.length;
    this.#hash?.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.#length !== undefined && this.#received !== this.#length) return callback(new S3Error('IncompleteBody'));
    if (this.#hash) {
      const computed = this.#hash.digest('hex');
      if (computed !== this.#expected) {
        return callback(
          new S3Error('XAmzContentSHA256Mismatch', undefined, {
            ClientComputedContentSHA256: this.#expected,
            S3ComputedContentSHA256: computed,
          }),
        );
      }
    }
    callback();
  }
}

function contentLength(headers: IncomingHttpHeaders): number | undefined {
  const v = headers['content-length'];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** The trailer names of x-amz-trailer; AWS refuses any other than a checksum. */
function expectedTrailers(headers: IncomingHttpHeaders): string[] {
  const v = headers['x-amz-trailer'];
  if (v === undefined) return [];
  const names = (Array.isArray(v) ? v.join(',') : v).split(',').map((n) => n.trim().toLowerCase()).filter(Boolean);
  for (const n of names) {
    if (!TRAILER_NAMES.has(n)) throw new S3Error('InvalidRequest', 'The value specified in the x-amz-trailer header is not supported');
  }
  return names;
}

function signingOf(auth: AuthResult): ChunkSigning {
  const { signingKey, amzDate, scope, signature, credentials } = auth;
  if (!signingKey || !amzDate || !scope || !signature || !credentials) {
    throw new TypeError('decodeBody: a chunked-signed payload needs the AuthResult of authenticate()');
  }
  return { key: signingKey, amzDate, scope, seed: signature, accessKeyId: credentials.accessKeyId };
}

/** Builds the decoder for one request; may throw an S3Error for bad headers. */
function decoderFor(auth: AuthResult, headers: IncomingHttpHeaders): Transform & DecodedBody {
  const p = auth.payload;
  if (p.kind === 'unsigned') return new PlainBody(undefined, contentLength(headers));
  if (p.kind === 'sha256') return new PlainBody(p.expected, contentLength(headers));
  return new AwsChunkedDecoder({
    signing: p.kind === 'chunked-signed' ? signingOf(auth) : undefined,
    trailer: p.trailer,
    decodedLength: auth.decodedContentLength ?? decodedContentLength(headers['x-amz-decoded-content-length']),
    minChunkSize: auth.minChunkSize ?? DEFAULT_MIN_CHUNK,
    expectedTrailers: expectedTrailers(headers),
  });
}

const ignore = () => undefined;

/**
 * See index.ts. `raw` is piped into the decoder. On a decoding error `raw` is
 * unpiped but not destroyed (destroying a request destroys its socket, and the
 * error still has to be answered); a premature end of `raw` is IncompleteBody.
 */
export function decodeBody(raw: Readable, auth: AuthResult, headers: IncomingHttpHeaders): DecodedBody {
  let body: Transform & DecodedBody;
  try {
    body = decoderFor(auth, headers);
  } catch (e) {
    if (!(e instanceof S3Error)) throw e;
    const failed = new PlainBody(undefined, undefined);
    failed.on('error', ignore);
    process.nextTick(() => failed.destroy(e));
    return failed;
  }
  // The body may fail (its client gone, a bad chunk) while nobody is reading it yet: a handler awaiting a blob
  // file before its first read. The error is kept by the stream and thrown to its reader; it must not go
  // unhandled, which would end the process.
  body.on('error', ignore);
  let ended = false;
  raw.once('end', () => (ended = true));
  raw.once('error', () => body.destroy(new S3Error('IncompleteBody')));
  raw.once('close', () => {
    if (!ended && !body.destroyed) body.destroy(new S3Error('IncompleteBody'));
  });
  raw.pipe(body);
  return body;
}
