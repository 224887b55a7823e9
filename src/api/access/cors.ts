import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../../errors.js';
import { bucketOf, header, type Handler, type Headers, type RequestContext, type S3Response } from '../context.js';
import { errorXml } from '../error-response.js';
import { parseXml, xmlDocument } from '../xml.js';
import type { BucketRow } from '../../meta/types.js';
import { readBody } from '../body.js';
import { globMatch } from './policy-eval.js';
import { changeBucket } from '../bucket/change.js';

/**
 * Cross-origin resource sharing: a bucket's CORS rules (PutBucketCors and
 * friends), the preflight `OPTIONS` answer, and the CORS headers of actual
 * requests. The first rule whose AllowedOrigin (one `*` wildcard at most),
 * AllowedMethod and AllowedHeader (case-insensitive) all match decides; a
 * preflight that matches no rule is 403 AccessForbidden, an actual request
 * that matches none simply carries no CORS headers.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/RESTOPTIONSobject.html
 */
export interface CorsRule {
  ID?: string;
  AllowedHeaders: string[];
  AllowedMethods: string[];
  AllowedOrigins: string[];
  ExposeHeaders: string[];
  MaxAgeSeconds?: number;
}

const METHODS = new Set(['GET', 'PUT', 'HEAD', 'POST', 'DELETE']);
const MAX_RULES = 100;
const VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';

/** A child element that may repeat, as strings; an empty element is the empty string. */
function list(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map((x) => (typeof x === 'object' ? '' : String(x)));
}

function checkWildcards(kind: string, values: string[]): void {
  for (const v of values) if (v.split('*').length > 2) throw new S3Error('InvalidRequest', `${kind} "${v}" can not have more than one wildcard.`);
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketCors.html */
export function corsFromXml(text: string): CorsRule[] {
  const { root, value } = parseXml(text);
  if (root !== 'CORSConfiguration' || typeof value !== 'object') throw new S3Error('MalformedXML');
  const raw = value.CORSRule === undefined ? [] : Array.isArray(value.CORSRule) ? value.CORSRule : [value.CORSRule];
  if (raw.length === 0) throw new S3Error('MalformedXML');
  if (raw.length > MAX_RULES) throw new S3Error('InvalidRequest', `The number of CORS rules should not exceed allowed limit of ${MAX_RULES} rules.`);
  return raw.map((r: any) => {
    if (typeof r !== 'object' || r === null) throw new S3Error('MalformedXML');
    const rule: CorsRule = {
      AllowedHeaders: list(r.AllowedHeader), AllowedMethods: list(r.AllowedMethod), AllowedOrigins: list(r.AllowedOrigin), ExposeHeaders: list(r.ExposeHeader),
    };
    if (rule.AllowedMethods.length === 0 || rule.AllowedOrigins.length === 0) throw new S3Error('MalformedXML');
    for (const m of rule.AllowedMethods) {
      if (!METHODS.has(m)) throw new S3Error('InvalidRequest', `Found unsupported HTTP method in CORS config. Unsupported method is ${m}`);
    }
    checkWildcards('AllowedOrigin', rule.AllowedOrigins);
    checkWildcards('AllowedHeader', rule.AllowedHeaders);
    if (r.ID !== undefined) {
      if (String(r.ID).length > 255) throw new S3Error('InvalidArgument', 'The ID of a CORS rule must not be longer than 255 characters');
      rule.ID = String(r.ID);
    }
    if (r.MaxAgeSeconds !== undefined) {
      const n = Number(r.MaxAgeSeconds);
      if (!/^\d+$/.test(String(r.MaxAgeSeconds)) || !Number.isSafeInteger(n)) throw new S3Error('MalformedXML');
      rule.MaxAgeSeconds = n;
    }
    return rule;
  });
}

export function corsXml(rules: CorsRule[]): string {
  return xmlDocument('CORSConfiguration', {
    CORSRule: rules.map((r) => ({
      ID: r.ID, AllowedHeader: r.AllowedHeaders, AllowedMethod: r.AllowedMethods, AllowedOrigin: r.AllowedOrigins, ExposeHeader: r.ExposeHeaders, MaxAgeSeconds: r.MaxAgeSeconds,
    })),
  });
}

function rulesOf(bucket: BucketRow | undefined): CorsRule[] | undefined {
  return bucket?.config.cors as CorsRule[] | undefined;
}

/** `Access-Control-Request-Headers`, lower-cased, without empty items. */
function requestedHeaders(raw: string | undefined): string[] {
  return raw === undefined ? [] : raw.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
}

export function matchRule(rules: CorsRule[], origin: string, method: string, headers: string[]): CorsRule | undefined {
  return rules.find((r) => r.AllowedOrigins.some((o) => globMatch(o, origin, false))
    && r.AllowedMethods.includes(method)
    && headers.every((h) => r.AllowedHeaders.some((a) => globMatch(a, h, true))));
}

/** The CORS headers a matching rule puts on an answer. */
function ruleHeaders(rule: CorsRule, origin: string): Headers {
  const any = rule.AllowedOrigins.includes('*');
  const h: Headers = { 'Access-Control-Allow-Origin': any ? '*' : origin };
  if (!any) h['Access-Control-Allow-Credentials'] = 'true';
  h['Access-Control-Allow-Methods'] = rule.AllowedMethods.join(', ');
  if (rule.ExposeHeaders.length) h['Access-Control-Expose-Headers'] = rule.ExposeHeaders.join(', ');
  if (rule.MaxAgeSeconds !== undefined) h['Access-Control-Max-Age'] = String(rule.MaxAgeSeconds);
  h.Vary = VARY;
  return h;
}

/**
 * CORS headers for an actual (non-preflight) request to a bucket: those of
 * the first rule matching its Origin and method (Access-Control-Request-Method
 * and -Headers stand in when a client sends them), or none.
 */
export function actualRequestCors(bucket: BucketRow | undefined, method: string, headers: IncomingHttpHeaders): Headers | undefined {
  const origin = headers.origin;
  const rules = rulesOf(bucket);
  if (typeof origin !== 'string' || !rules) return undefined;
  const m = typeof headers['access-control-request-method'] === 'string' ? headers['access-control-request-method'] : method;
  const acrh = headers['access-control-request-headers'];
  const rule = matchRule(rules, origin, m, requestedHeaders(typeof acrh === 'string' ? acrh : undefined));
  return rule ? ruleHeaders(rule, origin) : undefined;
}

/** An error of the preflight answer: AWS prints no Resource in it. */
function preflightError(ctx: RequestContext, err: S3Error, extra: Headers = {}): S3Response {
  return { status: err.status, headers: { 'content-type': 'application/xml', ...extra }, body: errorXml(err, undefined, ctx.requestId, ctx.hostId) };
}

/** The preflight `OPTIONS` request (the router names it PreflightRequest). */
export const PreflightRequest: Handler = async (ctx) => {
  const origin = header(ctx, 'origin');
  if (origin === undefined) {
    return preflightError(ctx, new S3Error('BadRequest', 'Insufficient information. Origin request header needed.'), { connection: 'close' });
  }
  const method = header(ctx, 'access-control-request-method');
  const forbidden = (message: string | undefined, resourceType: string) =>
    preflightError(ctx, new S3Error('AccessForbidden', message, { Method: method ?? 'OPTIONS', ResourceType: resourceType }));
  const bucket = ctx.bucket === undefined ? undefined : await ctx.deps.meta.getBucket(ctx.bucket);
  if (!bucket) return forbidden('CORSResponse: Bucket not found', 'BUCKET');
  const rules = rulesOf(bucket);
  if (!rules) return forbidden('CORSResponse: CORS is not enabled for this bucket.', 'BUCKET');
  const wanted = requestedHeaders(header(ctx, 'access-control-request-headers'));
  const rule = method === undefined ? undefined : matchRule(rules, origin, method, wanted);
  if (!rule) return forbidden(undefined, ctx.key === undefined ? 'BUCKET' : 'OBJECT');
  const h = ruleHeaders(rule, origin);
  if (wanted.length) h['Access-Control-Allow-Headers'] = wanted.join(', ');
  return { status: 200, headers: h };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketCors.html */
export const PutBucketCors: Handler = async (ctx) => {
  const rules = corsFromXml(await readBody(ctx, 64 * 1024));
  await changeBucket(ctx, { config: { cors: rules } });
  return { status: 200 };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketCors.html */
export const GetBucketCors: Handler = async (ctx) => {
  const rules = rulesOf(bucketOf(ctx));
  if (!rules) throw new S3Error('NoSuchCORSConfiguration', undefined, { BucketName: ctx.bucket });
  return { status: 200, headers: { 'content-type': 'application/xml' }, body: corsXml(rules) };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketCors.html */
export const DeleteBucketCors: Handler = async (ctx) => {
  await changeBucket(ctx, { config: { cors: undefined } });
  return { status: 204 };
};
