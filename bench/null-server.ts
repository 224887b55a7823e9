/**
 * The benchmark's ceiling: a do-nothing node:http server, run in a child
 * process like the server under test (bench/server.ts, startCeilingServer).
 * Every request gets 200 with no authentication and no storage:
 *
 *   PUT                the body is read and discarded
 *   GET ?bytes=<n>     n bytes, written 1 MiB at a time with backpressure
 *   GET                a fixed 4 KiB body
 *
 * The lean client driving it at Tessera's settings measures what node:http
 * alone gives on this machine, in the same run.
 */
import { createServer } from 'node:http';

const SMALL = Buffer.alloc(4096, 0x61);
const BLOCK = Buffer.alloc(1024 * 1024, 0x62);

const server = createServer((req, res) => {
  if (req.method === 'PUT') {
    req.on('end', () => res.writeHead(200, { 'content-length': '0' }).end());
    req.resume();
    return;
  }
  req.resume();
  const at = req.url?.indexOf('?bytes=') ?? -1;
  if (req.method !== 'GET' || at < 0) {
    const body = req.method === 'GET' ? SMALL : Buffer.alloc(0);
    res.writeHead(200, { 'content-length': String(body.length) }).end(body);
    return;
  }
  let left = Number(req.url!.slice(at + '?bytes='.length));
  res.writeHead(200, { 'content-length': String(left) });
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, BLOCK.length);
      left -= n;
      if (!res.write(n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n))) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
});
server.keepAliveTimeout = 65_000; // as src/server.ts
server.headersTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  if (addr && typeof addr === 'object') process.stdout.write(`listening on http://127.0.0.1:${addr.port}\n`);
});
process.once('SIGINT', () => process.exit(0));
