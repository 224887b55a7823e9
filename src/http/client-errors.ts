import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { S3Error, type S3ErrorCode } from '../errors.js';
import { errorXml } from './respond.js';

/** Node's own parser errors and the S3 answer each gets. */
const PARSER_ERRORS: Record<string, S3ErrorCode> = {
  HPE_HEADER_OVERFLOW: 'RequestHeaderSectionTooLarge',
  ERR_HTTP_REQUEST_TIMEOUT: 'RequestTimeout',
  HPE_HEADERS_TIMEOUT: 'RequestTimeout',
};

/**
 * Answers requests that never reach dispatch because Node's HTTP parser
 * refused them (headers over the size limit, a request line that does not
 * parse, headers that stall past `headersTimeout`): an S3 `<Error>` document
 * with a request id, then the connection is closed, never a bare 400/431 or a
 * silently dropped socket.
 */
export function answerClientErrors(server: Server, log: Logger): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
      socket.destroy();
      return;
    }
    const code = PARSER_ERRORS[err.code ?? ''] ?? 'BadRequest';
    log.debug({ err: err.message, code: err.code }, 'client error');
    const e = new S3Error(code);
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    const hostId = randomBytes(24).toString('base64');
    const body = errorXml(e, undefined, requestId, hostId);
    socket.end(
      `HTTP/1.1 ${e.status} ${code}\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `x-amz-request-id: ${requestId}\r\nx-amz-id-2: ${hostId}\r\nServer: Tessera\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
