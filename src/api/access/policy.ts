import { S3Error } from '../../errors.js';
import { ACTIONS, type ResourceKind } from './policy-actions.js';
import { CONDITION_KEYS, CONDITION_OPERATORS, globMatch, parseCondition, type Condition } from './policy-eval.js';

/**
 * Bucket policies: the subset of the IAM policy language that S3 users
 * write. A document is `{Version?, Id?, Statement}`; each statement has
 * Effect, Principal or NotPrincipal (`*`, `{"AWS": ...}` with `*`, account
 * ids, account root ARNs or user ARNs, `{"CanonicalUser": ...}`), Action or
 * NotAction (with `*` and `?` wildcards), Resource or NotResource (ARNs of
 * this bucket and its objects, with wildcards) and an optional Condition.
 * Anything else is MalformedPolicy with AWS's message for it.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html
 */
export const MAX_POLICY_SIZE = 20 * 1024;

export interface PrincipalSet {
  any: boolean;
  accounts: Set<string>;
  canonicalIds: Set<string>;
  /** IAM user ARNs: accepted, but Tessera principals are accounts, so they match no request. */
  users: string[];
}

export interface Statement {
  sid?: string;
  effect: 'Allow' | 'Deny';
  principal?: PrincipalSet;
  notPrincipal?: PrincipalSet;
  action?: string[];
  notAction?: string[];
  resource?: string[];
  notResource?: string[];
  conditions: Condition[];
}

export interface Policy {
  statements: Statement[];
}

const malformed = (message: string) => new S3Error('MalformedPolicy', message);
const STATEMENT_FIELDS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);

function strings(v: unknown, onError: string): string[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || list.some((x) => typeof x !== 'string')) throw malformed(onError);
  return list as string[];
}

function principalSet(v: unknown): PrincipalSet {
  const set: PrincipalSet = { any: false, accounts: new Set(), canonicalIds: new Set(), users: [] };
  if (v === '*') return { ...set, any: true };
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.keys(v).length === 0) throw malformed('Invalid principal in policy');
  for (const [type, value] of Object.entries(v)) {
    for (const p of strings(value, 'Invalid principal in policy')) {
      if (type === 'AWS') {
        let m: RegExpMatchArray | null;
        if (p === '*') set.any = true;
        else if (/^\d{12}$/.test(p)) set.accounts.add(p);
        else if ((m = p.match(/^arn:aws:iam::(\d{12}):root$/))) set.accounts.add(m[1]);
        else if (/^arn:aws:iam::\d{12}:user\/[\w+=,.@\-/]{1,512}$/.test(p)) set.users.push(p);
        else throw malformed('Invalid principal in policy');
      } else if (type === 'CanonicalUser') {
        if (!/^[0-9a-f]{64}$/.test(p)) throw malformed('Invalid principal in policy');
        set.canonicalIds.add(p);
      } else if (type !== 'Service' && type !== 'Federated') {
        throw malformed('Invalid principal in policy');
      }
    }
  }
  return set;
}

function checkActions(list: string[]): ResourceKind[] {
  const kinds = new Set<ResourceKind>();
  for (const a of list) {
    if (a === '*' || a.toLowerCase() === 's3:*') {
      ['service', 'bucket', 'object'].forEach((k) => kinds.add(k as ResourceKind));
      continue;
    }
    let known = false;
    for (const [name, kind] of ACTIONS) {
      if (globMatch(a, name, true)) {
        known = true;
        kinds.add(kind);
      }
    }
    if (!known) throw malformed('Policy has invalid action');
  }
  return [...kinds];
}

/** Which kinds of resource a Resource pattern can name in this bucket; refuses patterns outside it. */
function resourceKinds(pattern: string, bucket: string): ResourceKind[] {
  if (pattern === '*') return ['bucket', 'object'];
  if (!pattern.startsWith('arn:aws:s3:::')) throw malformed('Policy has invalid resource');
  const rest = pattern.slice('arn:aws:s3:::'.length);
  const slash = rest.indexOf('/');
  const bucketPart = slash < 0 ? rest : rest.slice(0, slash);
  const kinds: ResourceKind[] = [];
  if (globMatch(rest, bucket, false)) kinds.push('bucket');
  if (slash >= 0 ? globMatch(bucketPart, bucket, false) : bucketPart.includes('*') && globMatch(bucketPart, bucket + '/x', false)) kinds.push('object');
  if (kinds.length === 0) throw malformed('Policy has invalid resource');
  return kinds;
}

function parseStatement(raw: unknown, bucket: string): Statement {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw malformed('Invalid policy syntax.');
  const s = raw as Record<string, unknown>;
  for (const k of Object.keys(s)) if (!STATEMENT_FIELDS.has(k)) throw malformed(`Unknown field ${k}`);
  if (s.Sid !== undefined && typeof s.Sid !== 'string') throw malformed('Invalid policy syntax.');
  if (s.Effect === undefined) throw malformed('Missing required field Effect');
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw malformed(`Invalid effect: ${String(s.Effect)}`);
  const one = (a: string, b: string) => {
    if (s[a] === undefined && s[b] === undefined) throw malformed(`Missing required field ${a}`);
    if (s[a] !== undefined && s[b] !== undefined) throw malformed(`Statement cannot have both ${a} and ${b}`);
  };
  one('Principal', 'NotPrincipal');
  one('Action', 'NotAction');
  one('Resource', 'NotResource');
  const st: Statement = { sid: s.Sid as string | undefined, effect: s.Effect, conditions: [] };
  if (s.Principal !== undefined) st.principal = principalSet(s.Principal);
  else st.notPrincipal = principalSet(s.NotPrincipal);
  const actions = strings(s.Action ?? s.NotAction, 'Policy has invalid action');
  const actionKinds = checkActions(actions);
  if (s.Action !== undefined) st.action = actions;
  else st.notAction = actions;
  const resources = strings(s.Resource ?? s.NotResource, 'Policy has invalid resource');
  const resKinds = new Set(resources.flatMap((r) => resourceKinds(r, bucket)));
  if (s.Resource !== undefined) {
    st.resource = resources;
    if (st.action && !actionKinds.some((k) => resKinds.has(k))) throw malformed('Action does not apply to any resource(s) in statement');
  } else {
    st.notResource = resources;
  }
  if (s.Condition !== undefined) st.conditions = parseConditions(s.Condition);
  return st;
}

function parseConditions(raw: unknown): Condition[] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw malformed('Invalid policy syntax.');
  const out: Condition[] = [];
  for (const [operator, block] of Object.entries(raw)) {
    if (typeof block !== 'object' || block === null || Array.isArray(block)) throw malformed('Invalid policy syntax.');
    for (const [key, value] of Object.entries(block)) {
      const c = parseCondition(operator, key, value);
      if (c === 'operator') throw malformed(`Invalid Condition type : ${operator}. Valid types are ${CONDITION_OPERATORS.join(', ')}`);
      if (c === 'key') throw malformed('Policy has an invalid condition key');
      if (c === 'value') throw malformed(`Invalid Condition value for ${operator} ${key}`);
      out.push(c);
    }
  }
  return out;
}

/**
 * Parses and validates a policy document for `bucket`. Throws MalformedPolicy
 * with a message naming what is wrong (AWS's wording where AWS has one).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html
 */
export function parsePolicy(text: string, bucket: string): Policy {
  if (!text.trimStart().startsWith('{')) throw malformed("Policies must be valid JSON and the first byte must be '{'");
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformed("Policies must be valid JSON and the first byte must be '{'");
  }
  if (Buffer.byteLength(JSON.stringify(doc)) > MAX_POLICY_SIZE) throw malformed('Policy exceeds the maximum allowed document size.');
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) if (k !== 'Version' && k !== 'Id' && k !== 'Statement') throw malformed(`Unknown field ${k}`);
  if (d.Version !== undefined && d.Version !== '2012-10-17' && d.Version !== '2008-10-17') throw malformed('The policy must contain a valid version string');
  if (d.Statement === undefined) throw malformed('Missing required field Statement');
  const list = Array.isArray(d.Statement) ? d.Statement : [d.Statement];
  if (list.length === 0) throw malformed('Could not parse the policy: Statement is empty!');
  return { statements: list.map((s) => parseStatement(s, bucket)) };
}

/** Keys whose conditions tie a statement to known callers, so that a `*` principal is not public. */
const NARROWING_KEYS = new Set(['aws:sourceip', 'aws:principalaccount', 'aws:sourceaccount', 'aws:sourcearn', 'aws:sourcevpc', 'aws:sourcevpce', 'aws:principalorgid']);

/**
 * Whether a policy grants access to everyone: an Allow statement for `*`
 * (or with NotPrincipal) that no condition narrows to known callers.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status
 */
export function isPublicPolicy(p: Policy): boolean {
  return p.statements.some((s) => s.effect === 'Allow' && (s.principal?.any || s.notPrincipal) && !s.conditions.some((c) => NARROWING_KEYS.has(c.key)));
}

export { CONDITION_KEYS };
