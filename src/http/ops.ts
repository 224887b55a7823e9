import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MetaStore } from '../meta/types.js';

/**
 * Operations endpoints, outside the S3 namespace: paths under `/-/` can never
 * name a bucket (bucket names start with a letter or digit), so they cannot
 * shadow one. They need no signature and reveal no data.
 *
 * - `GET /-/healthy`: 200 while the process serves requests (liveness).
 * - `GET /-/ready`: 200 when the metadata store answers, else 503 (readiness).
 * - `GET /-/metrics`: Prometheus text exposition of request counts, latencies
 *   and bytes by S3 operation, plus process memory.
 */
export const OPS_PREFIX = '/-/';

/** Upper bounds (seconds) of the latency histogram buckets. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface OpStats {
  byStatus: Map<number, number>;
  /** Cumulative counts per bucket bound, then +Inf. */
  histogram: number[];
  sumSeconds: number;
  bytesIn: number;
}

/** Per-server request metrics (one instance per startServer: no globals). */
export class Metrics {
  private readonly ops = new Map<string, OpStats>();

  observe(op: string, status: number, ms: number, bytesIn = 0): void {
    let s = this.ops.get(op);
    if (!s) this.ops.set(op, (s = { byStatus: new Map(), histogram: new Array(BUCKETS.length + 1).fill(0), sumSeconds: 0, bytesIn: 0 }));
    s.byStatus.set(status, (s.byStatus.get(status) ?? 0) + 1);
    const seconds = ms / 1000;
    s.sumSeconds += seconds;
    s.bytesIn += bytesIn;
    for (let i = 0; i <= BUCKETS.length; i++) if (i === BUCKETS.length || seconds <= BUCKETS[i]) s.histogram[i]++;
  }

  /** Prometheus text format 0.0.4. */
  render(): string {
    const out: string[] = [
      '# HELP tessera_requests_total S3 requests answered, by operation and HTTP status.',
      '# TYPE tessera_requests_total counter',
    ];
    for (const [op, s] of this.ops) for (const [status, n] of s.byStatus) out.push(`tessera_requests_total{operation="${op}",status="${status}"} ${n}`);
    out.push('# HELP tessera_request_duration_seconds Time from request to answer, by operation.', '# TYPE tessera_request_duration_seconds histogram');
    for (const [op, s] of this.ops) {
      BUCKETS.forEach((b, i) => out.push(`tessera_request_duration_seconds_bucket{operation="${op}",le="${b}"} ${s.histogram[i]}`));
      const count = s.histogram[BUCKETS.length];
      out.push(`tessera_request_duration_seconds_bucket{operation="${op}",le="+Inf"} ${count}`);
      out.push(`tessera_request_duration_seconds_sum{operation="${op}"} ${s.sumSeconds}`);
      out.push(`tessera_request_duration_seconds_count{operation="${op}"} ${count}`);
    }
    out.push('# HELP tessera_request_body_bytes_total Request body bytes stored, by operation.', '# TYPE tessera_request_body_bytes_total counter');
    for (const [op, s] of this.ops) if (s.bytesIn > 0) out.push(`tessera_request_body_bytes_total{operation="${op}"} ${s.bytesIn}`);
    const mem = process.memoryUsage();
    out.push('# HELP process_resident_memory_bytes Resident memory of the server process.', '# TYPE process_resident_memory_bytes gauge');
    out.push(`process_resident_memory_bytes ${mem.rss}`);
    out.push('# HELP nodejs_heap_used_bytes V8 heap in use.', '# TYPE nodejs_heap_used_bytes gauge', `nodejs_heap_used_bytes ${mem.heapUsed}`);
    return out.join('\n') + '\n';
  }
}

/** Answers an operations request; returns false when the request is not one (S3 handles it). */
export async function answerOps(req: IncomingMessage, res: ServerResponse, meta: MetaStore, metrics: Metrics): Promise<boolean> {
  const url = req.url ?? '';
  if (!url.startsWith(OPS_PREFIX)) return false;
  const path = url.split('?')[0];
  const reply = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    reply(405, 'method not allowed\n');
    return true;
  }
  if (path === '/-/healthy') {
    reply(200, 'ok\n');
  } else if (path === '/-/ready') {
    const ok = await meta.getBucket('-').then(() => true, () => false);
    reply(ok ? 200 : 503, ok ? 'ready\n' : 'metadata store unavailable\n');
  } else if (path === '/-/metrics') {
    reply(200, metrics.render(), 'text/plain; version=0.0.4; charset=utf-8');
  } else {
    reply(404, 'not found\n');
  }
  return true;
}
