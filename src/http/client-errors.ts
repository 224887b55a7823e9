import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { S3Error, type S3ErrorCode } from '../errors.js';
import { newRequestIds } from './request-id.js';
import { errorXml } from '../api/error-response.js';

/** Node's own parser errors and the S3 answer each gets. */
const PARSER_ERRORS: Record<string, S3ErrorCode> = {
  HPE_HEADER_OVERFLOW: 'RequestHeaderSectionTooLarge',
  ERR_HTTP_REQUEST_TIMEOUT: 'RequestTimeout',
  HPE_HEADERS_TIMEOUT: 'RequestTimeout',
  // The client half-closed before sending the Content-Length it announced.
  HPE_INVALID_EOF_STATE: 'IncompleteBody',
};

/**
 * Answers requests that never reach dispatch: those Node's HTTP parser
 * refused (headers over the size limit, a request line that does not parse,
 * headers that stall past `headersTimeout`), and CONNECT, which Node hands
 * over as a bare socket (and closes unanswered when nobody listens). Each gets
 * an S3 `<Error>` document with a request id, then the connection is closed,
 * never a bare 400/431 or a silently dropped socket.
 */
export function answerClientErrors(server: Server, log: Logger): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
      socket.destroy();
      return;
    }
    const code = PARSER_ERRORS[err.code ?? ''] ?? 'BadRequest';
    log.debug({ err: err.message, code: err.code }, 'client error');
    answerOnSocket(socket, new S3Error(code));
  });
  // CONNECT (a proxy tunnel) is no S3 method: 405 MethodNotAllowed, as dispatch answers any other unknown
  // method. Its authority-form target (`host:443`) names no bucket or key, so the resource is the service.
  server.on('connect', (req: IncomingMessage, socket: Socket) => {
    log.debug({ method: req.method, url: req.url }, 'CONNECT refused');
    socket.on('error', () => undefined);
    answerOnSocket(socket, new S3Error('MethodNotAllowed', undefined, { Method: req.method ?? 'CONNECT', ResourceType: 'SERVICE' }), () => socket.destroy());
  });
}

/** Writes an error answer straight to a socket the HTTP server no longer writes to, and closes it. */
function answerOnSocket(socket: Socket, e: S3Error, done?: () => void): void {
  const { requestId, hostId } = newRequestIds();
  const body = errorXml(e, undefined, requestId, hostId);
  socket.end(
    `HTTP/1.1 ${e.status} ${e.code}\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `x-amz-request-id: ${requestId}\r\nx-amz-id-2: ${hostId}\r\nServer: Tessera\r\nConnection: close\r\n\r\n${body}`,
    done,
  );
}
