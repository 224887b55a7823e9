import { isIP } from 'node:net';
import type { Account } from '../../engine/accounts/accounts.js';
import type { Policy, PrincipalSet, Statement } from './policy.js';

/**
 * Evaluation of a bucket policy against one request, as IAM evaluates it:
 * a statement applies when its principal, action, resource and every
 * condition match; an applicable Deny wins over any Allow; with neither the
 * policy says nothing and the caller falls back to ownership and ACLs.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */

/** Condition values of a request, by lower-cased key; undefined when the request has no such value. */
export type ConditionValues = Record<string, string | string[] | undefined>;

export interface PolicyRequest {
  principal?: Account;
  action: string;
  resource: string;
  values: ConditionValues;
}

export type PolicyResult = 'Allow' | 'Deny' | undefined;

// ---- wildcards ----

const globCache = new Map<string, RegExp>();

/** IAM wildcards: `*` any run of characters, `?` one character. */
export function globMatch(pattern: string, value: string, ignoreCase: boolean): boolean {
  const cacheKey = (ignoreCase ? 'i:' : 's:') + pattern;
  let re = globCache.get(cacheKey);
  if (!re) {
    const src = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    re = new RegExp(`^${src}$`, ignoreCase ? 'is' : 's');
    if (globCache.size > 5000) globCache.clear();
    globCache.set(cacheKey, re);
  }
  return re.test(value);
}

// ---- conditions ----

export interface Condition {
  operator: string;
  ifExists: boolean;
  quantifier?: 'ForAnyValue' | 'ForAllValues';
  key: string;
  values: string[];
}

export const CONDITION_OPERATORS = [
  'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
  'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
  'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
  'Bool', 'IpAddress', 'NotIpAddress', 'ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike', 'Null',
];
const NEGATED = new Set(['StringNotEquals', 'StringNotEqualsIgnoreCase', 'StringNotLike', 'NumericNotEquals', 'DateNotEquals', 'NotIpAddress', 'ArnNotEquals', 'ArnNotLike']);

/** The condition keys Tessera fills in for a request (lower case). */
export const CONDITION_KEYS = new Set([
  'aws:sourceip', 'aws:securetransport', 'aws:principalaccount', 'aws:principaltype', 'aws:referer', 'aws:useragent',
  'aws:currenttime', 'aws:epochtime', 's3:prefix', 's3:delimiter', 's3:max-keys', 's3:x-amz-server-side-encryption',
  's3:x-amz-server-side-encryption-aws-kms-key-id', 's3:x-amz-acl', 's3:x-amz-copy-source', 's3:x-amz-metadata-directive',
  's3:x-amz-storage-class', 's3:versionid', 's3:signatureversion', 's3:authtype', 's3:x-amz-content-sha256',
  's3:x-amz-grant-read', 's3:x-amz-grant-write', 's3:x-amz-grant-read-acp', 's3:x-amz-grant-write-acp', 's3:x-amz-grant-full-control',
]);

/** A parsed condition, or which part of it is invalid. */
export function parseCondition(operatorRaw: string, keyRaw: string, value: unknown): Condition | 'operator' | 'key' | 'value' {
  let op = operatorRaw;
  let quantifier: Condition['quantifier'];
  const q = op.match(/^(ForAnyValue|ForAllValues):(.+)$/);
  if (q) [quantifier, op] = [q[1] as Condition['quantifier'], q[2]];
  const ifExists = op.endsWith('IfExists');
  if (ifExists) op = op.slice(0, -'IfExists'.length);
  if (!CONDITION_OPERATORS.includes(op) || (ifExists && op === 'Null')) return 'operator';
  const key = keyRaw.toLowerCase();
  if (!CONDITION_KEYS.has(key)) return 'key';
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.some((v) => !['string', 'number', 'boolean'].includes(typeof v))) return 'value';
  const values = list.map(String);
  if ((op === 'IpAddress' || op === 'NotIpAddress') && values.some((v) => !parseCidr(v))) return 'value';
  return { operator: op, ifExists, quantifier, key, values };
}

interface Cidr {
  v6: boolean;
  bits: bigint;
  prefix: number;
}

function ipBits(ip: string): { v6: boolean; bits: bigint } | undefined {
  const kind = isIP(ip);
  if (kind === 4) return { v6: false, bits: ip.split('.').reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n) };
  if (kind !== 6) return undefined;
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return { v6: true, bits: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n) };
}

function parseCidr(s: string): Cidr | undefined {
  const [ip, len] = s.split('/');
  const a = ipBits(ip);
  if (!a) return undefined;
  const max = a.v6 ? 128 : 32;
  const prefix = len === undefined ? max : Number(len);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return undefined;
  return { ...a, prefix };
}

function inCidr(ip: string, cidr: string): boolean {
  const a = ipBits(ip.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1'));
  const c = parseCidr(cidr);
  if (!a || !c || a.v6 !== c.v6) return false;
  const shift = BigInt((c.v6 ? 128 : 32) - c.prefix);
  return a.bits >> shift === c.bits >> shift;
}

function dateOf(s: string): number {
  return /^\d+$/.test(s) ? Number(s) * 1000 : Date.parse(s);
}

/** Whether one request value matches one policy value under a (positive) operator. */
function matchOne(op: string, rv: string, pv: string): boolean {
  switch (op) {
    case 'StringEquals': case 'StringNotEquals': case 'ArnEquals': case 'ArnNotEquals': return rv === pv;
    case 'StringEqualsIgnoreCase': case 'StringNotEqualsIgnoreCase': return rv.toLowerCase() === pv.toLowerCase();
    case 'StringLike': case 'StringNotLike': case 'ArnLike': case 'ArnNotLike': return globMatch(pv, rv, false);
    case 'Bool': return rv.toLowerCase() === pv.toLowerCase();
    case 'IpAddress': case 'NotIpAddress': return inCidr(rv, pv);
    default: {
      const numeric = op.startsWith('Numeric');
      const a = numeric ? Number(rv) : dateOf(rv);
      const b = numeric ? Number(pv) : dateOf(pv);
      if (Number.isNaN(a) || Number.isNaN(b)) return false;
      const rel = op.replace(/^(Numeric|Date)/, '');
      return rel === 'Equals' || rel === 'NotEquals' ? a === b : rel === 'LessThan' ? a < b : rel === 'LessThanEquals' ? a <= b : rel === 'GreaterThan' ? a > b : a >= b;
    }
  }
}

function conditionHolds(c: Condition, values: ConditionValues): boolean {
  const raw = values[c.key];
  const present = raw !== undefined && (!Array.isArray(raw) || raw.length > 0);
  if (c.operator === 'Null') return c.values.some((v) => (v.toLowerCase() === 'true') === !present);
  const negated = NEGATED.has(c.operator);
  if (!present) return c.ifExists || negated || c.quantifier === 'ForAllValues';
  const list = Array.isArray(raw) ? raw : [raw];
  const hit = (rv: string) => c.values.some((pv) => matchOne(c.operator, rv, pv));
  const matched = c.quantifier === 'ForAllValues' ? list.every(hit) : list.some(hit);
  return negated ? !matched : matched;
}

// ---- statements ----

function principalMatches(set: PrincipalSet, p: Account | undefined): boolean {
  if (set.any) return true;
  if (!p) return false;
  return set.accounts.has(p.accountId) || set.canonicalIds.has(p.canonicalId);
}

function applies(s: Statement, r: PolicyRequest): boolean {
  if (s.principal ? !principalMatches(s.principal, r.principal) : principalMatches(s.notPrincipal!, r.principal)) return false;
  const actionHit = (list: string[]) => list.some((a) => globMatch(a, r.action, true));
  if (s.action ? !actionHit(s.action) : actionHit(s.notAction!)) return false;
  const resourceHit = (list: string[]) => list.some((p) => globMatch(p, r.resource, false));
  if (s.resource ? !resourceHit(s.resource) : resourceHit(s.notResource!)) return false;
  return s.conditions.every((c) => conditionHolds(c, r.values));
}

/** Deny if any applicable statement denies, else Allow if one allows, else undefined. */
export function evaluatePolicy(p: Policy | undefined, r: PolicyRequest, onlyPrincipalOf?: string): PolicyResult {
  if (!p) return undefined;
  let allow = false;
  for (const s of p.statements) {
    if (!applies(s, r)) continue;
    if (s.effect === 'Deny') return 'Deny';
    allow = true;
  }
  if (allow && onlyPrincipalOf !== undefined && r.principal?.accountId !== onlyPrincipalOf) return undefined;
  return allow ? 'Allow' : undefined;
}
