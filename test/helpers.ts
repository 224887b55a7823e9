import { S3Client } from '@aws-sdk/client-s3';
import { startServer, type RunningServer, type StartOptions } from '../src/index.js';

/** A live server on a random port with a temporary data directory, and an SDK client in its default configuration. */
export async function liveServer(opts: StartOptions = {}): Promise<{ server: RunningServer; s3: S3Client; close: () => Promise<void> }> {
  const server = await startServer({ port: 0, jobIntervalMs: 0, ...opts });
  const s3 = client(server);
  return {
    server,
    s3,
    close: async () => {
      s3.destroy();
      await server.close();
    },
  };
}

export function client(server: RunningServer, extra: Record<string, unknown> = {}): S3Client {
  return new S3Client({
    endpoint: server.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    ...extra,
  });
}

let counter = 0;
/** A fresh, valid bucket name. */
export function bucketName(tag = 'b'): string {
  return `${tag}-${process.pid}-${Date.now().toString(36)}-${counter++}`.toLowerCase();
}

/** Runs fn and returns the S3 error it throws (fails if it does not throw). */
export async function s3Error(fn: () => Promise<unknown>): Promise<{ name: string; status: number; message: string; raw: any }> {
  try {
    await fn();
  } catch (e: any) {
    return { name: e.name ?? e.Code, status: e.$metadata?.httpStatusCode, message: e.message, raw: e };
  }
  throw new Error('expected an S3 error, the call succeeded');
}
