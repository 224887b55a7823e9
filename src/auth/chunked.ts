/**
 * A streaming decoder of the `aws-chunked` content encoding.
 *
 * The body is a list of chunks, each `hex-size[;chunk-signature=sig]\r\n`,
 * then `size` bytes of data, then `\r\n`; a chunk of size 0 ends the data. A
 * trailer section may follow the last chunk: `name:value\r\n` lines (with
 * signed chunks, the last one is `x-amz-trailer-signature:sig`), then an
 * empty line.
 *
 * Chunk signatures form a chain that starts at the request's signature:
 *
 *     sig(n) = HMAC(key, "AWS4-HMAC-SHA256-PAYLOAD\n" + date + "\n" + scope + "\n"
 *                        + sig(n-1) + "\n" + sha256("") + "\n" + sha256(data(n)))
 *     trailer = HMAC(key, "AWS4-HMAC-SHA256-TRAILER\n" + date + "\n" + scope + "\n"
 *                        + sig(last) + "\n" + sha256("name:value\n" ...))
 *
 * The decoder never holds more than one header line: data is passed on as
 * slices of the buffers node reads, and hashed as it passes. A chunk's data has
 * therefore already been emitted when its signature is found wrong; the error
 * comes before 'end', so a consumer that commits only on 'end' never stores it.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error } from '../errors.js';
import { EMPTY_SHA256, hmacHex, sha256Hex, signatureMatches } from './crypto.js';
import type { DecodedBody } from './types.js';
import { signatureMismatch } from './verify.js';

/** What signed chunks are checked against. */
export interface ChunkSigning {
  key: Buffer;
  amzDate: string;
  scope: string;
  /** The signature of the request itself. */
  seed: string;
  accessKeyId: string;
}

export interface ChunkedOptions {
  /** Present when chunks carry signatures (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]). */
  signing?: ChunkSigning;
  /** Whether a trailer section may follow the last chunk. */
  trailer: boolean;
  /** x-amz-decoded-content-length: the decoded data must be exactly this long. */
  decodedLength: number;
  /** Smallest size of a chunk that is not the last one. */
  minChunkSize: number;
  /** The names announced in x-amz-trailer, which must arrive. */
  expectedTrailers: string[];
}

const enum State {
  Header,
  Data,
  DataCr,
  DataLf,
  Trailer,
  Done,
}

const MAX_LINE = 4096;
const MAX_TRAILER_BYTES = 16384;
const SIZE = /^[0-9a-fA-F]{1,16}$/;
const CHUNK_SIGNATURE = 'chunk-signature=';

function malformedChunk(): S3Error {
  return new S3Error('InvalidRequest', 'The aws-chunked encoding of the request body is malformed.');
}

function malformedTrailer(): S3Error {
  return new S3Error('MalformedTrailerError', undefined);
}

function incomplete(): S3Error {
  return new S3Error('IncompleteBody');
}

export class AwsChunkedDecoder extends Transform implements DecodedBody {
  trailers: Record<string, string> = {};
  readonly #o: ChunkedOptions;
  #state = State.Header;
  /** Bytes of a line that began in an earlier buffer. */
  #partial: Buffer | null = null;
  #remaining = 0;
  #chunks = 0;
  #previousSize = -1;
  #decoded = 0;
  #hash: Hash | null = null;
  #previousSignature: string;
  #chunkSignature = '';
  #trailerText = '';
  #trailerSignature: string | undefined;

  constructor(options: ChunkedOptions) {
    super();
    this.#o = options;
    this.#previousSignature = options.signing?.seed ?? '';
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#consume(chunk);
      callback();
    } catch (e) {
      callback(e as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      // Tolerate a body that ends after its trailer lines without the final empty line.
      if (this.#state === State.Trailer && this.#partial === null) this.#endTrailer();
      if (this.#state !== State.Done || this.#decoded !== this.#o.decodedLength) throw incomplete();
      callback();
    } catch (e) {
      callback(e as Error);
    }
  }

  #consume(buf: Buffer): void {
    let pos = 0;
    while (pos < buf.length) {
      switch (this.#state) {
        case State.Data: {
          const n = Math.min(this.#remaining, buf.length - pos);
          const slice = buf.subarray(pos, pos + n);
          this.#hash?.update(slice);
          this.push(slice);
          this.#remaining -= n;
          pos += n;
          if (this.#remaining === 0) this.#state = State.DataCr;
          break;
        }
        case State.DataCr:
        case State.DataLf: {
          const expected = this.#state === State.DataCr ? 13 : 10;
          if (buf[pos++] !== expected) throw malformedChunk();
          if (this.#state === State.DataCr) this.#state = State.DataLf;
          else this.#endChunk();
          break;
        }
        case State.Header:
        case State.Trailer:
          pos = this.#readLine(buf, pos);
          break;
        case State.Done:
          throw malformedChunk();
      }
    }
  }

  /** Reads up to one `\r\n`-terminated line and handles it; returns the new position. */
  #readLine(buf: Buffer, pos: number): number {
    const held = this.#partial?.length ?? 0;
    const nl = buf.indexOf(10, pos);
    if (nl < 0) {
      if (held + buf.length - pos > MAX_LINE) throw this.#state === State.Trailer ? malformedTrailer() : malformedChunk();
      const rest = buf.subarray(pos);
      this.#partial = this.#partial ? Buffer.concat([this.#partial, rest]) : Buffer.from(rest);
      return buf.length;
    }
    if (held + nl - pos > MAX_LINE) throw this.#state === State.Trailer ? malformedTrailer() : malformedChunk();
    const line = this.#partial ? Buffer.concat([this.#partial, buf.subarray(pos, nl)]) : buf.subarray(pos, nl);
    this.#partial = null;
    if (line.length === 0 || line[line.length - 1] !== 13) {
      throw this.#state === State.Trailer ? malformedTrailer() : malformedChunk();
    }
    const text = line.toString('latin1', 0, line.length - 1);
    if (this.#state === State.Header) this.#startChunk(text);
    else this.#trailerLine(text);
    return nl + 1;
  }

  /** Handles `hex-size[;chunk-signature=sig]`. */
  #startChunk(line: string): void {
    const semicolon = line.indexOf(';');
    const sizeText = semicolon < 0 ? line : line.slice(0, semicolon);
    if (!SIZE.test(sizeText)) throw malformedChunk();
    const size = parseInt(sizeText, 16);
    this.#chunks++;
    if (size > 0 && this.#previousSize >= 0 && this.#previousSize < this.#o.minChunkSize) {
      throw new S3Error('InvalidChunkSizeError', undefined, { Chunk: this.#chunks, BadChunkSize: this.#previousSize });
    }
    if (this.#decoded + size > this.#o.decodedLength) throw incomplete();
    this.#previousSize = size;
    if (this.#o.signing) {
      const ext = semicolon < 0 ? '' : line.slice(semicolon + 1);
      this.#chunkSignature = ext.startsWith(CHUNK_SIGNATURE) ? ext.slice(CHUNK_SIGNATURE.length) : '';
      this.#hash = size > 0 ? createHash('sha256') : null;
    }
    this.#decoded += size;
    this.#remaining = size;
    if (size > 0) {
      this.#state = State.Data;
    } else {
      this.#verifyChunk(EMPTY_SHA256);
      this.#state = State.Trailer;
    }
  }

  #endChunk(): void {
    if (this.#hash) this.#verifyChunk(this.#hash.digest('hex'));
    this.#hash = null;
    this.#state = State.Header;
  }

  #verifyChunk(dataHash: string): void {
    const s = this.#o.signing;
    if (!s) return;
    const toSign = `AWS4-HMAC-SHA256-PAYLOAD\n${s.amzDate}\n${s.scope}\n${this.#previousSignature}\n${EMPTY_SHA256}\n${dataHash}`;
    const expected = hmacHex(s.key, toSign);
    if (!signatureMatches(expected, this.#chunkSignature)) {
      throw signatureMismatch(s.accessKeyId, toSign, this.#chunkSignature);
    }
    this.#previousSignature = expected;
  }

  /** One line of the trailer section; the empty line ends it. */
  #trailerLine(line: string): void {
    if (line === '') return this.#endTrailer();
    if (!this.#o.trailer || this.#trailerSignature !== undefined) throw malformedTrailer();
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformedTrailer();
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature' && this.#o.signing) {
      this.#trailerSignature = value;
      return;
    }
    this.#trailerText += `${name}:${value}\n`;
    if (this.#trailerText.length > MAX_TRAILER_BYTES) throw malformedTrailer();
    this.trailers[name] = value;
  }

  #endTrailer(): void {
    const s = this.#o.signing;
    if (s && this.#o.trailer) {
      if (this.#trailerSignature === undefined) throw malformedTrailer();
      const toSign = `AWS4-HMAC-SHA256-TRAILER\n${s.amzDate}\n${s.scope}\n${this.#previousSignature}\n${sha256Hex(this.#trailerText)}`;
      const expected = hmacHex(s.key, toSign);
      if (!signatureMatches(expected, this.#trailerSignature)) {
        throw signatureMismatch(s.accessKeyId, toSign, this.#trailerSignature);
      }
    }
    for (const name of this.#o.expectedTrailers) {
      if (!(name in this.trailers)) throw malformedTrailer();
    }
    this.#state = State.Done;
  }
}
