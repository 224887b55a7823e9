import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { S3Error } from '../../errors.js';
import type { RequestContext } from '../context.js';
import { escapeXml } from '../xml.js';
import type { Account } from '../../engine/accounts/accounts.js';

/**
 * Access control lists: who (a canonical user or a group) may do what
 * (READ, WRITE, READ_ACP, WRITE_ACP, FULL_CONTROL) on a bucket or an object.
 * They come from a canned ACL (`x-amz-acl`), grant headers
 * (`x-amz-grant-*`) or an `<AccessControlPolicy>` body; an absent ACL means
 * the default one, FULL_CONTROL for the owner. Stored grants name accounts by
 * canonical id (grants by email are resolved when set).
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html
 */
export type Permission = 'FULL_CONTROL' | 'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP';
export type Grantee = { type: 'CanonicalUser'; id: string } | { type: 'Group'; uri: string };
export interface Grant {
  grantee: Grantee;
  permission: Permission;
}

export const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
export const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery';
const GROUPS = new Set([ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY]);
const PERMISSIONS = new Set<Permission>(['FULL_CONTROL', 'READ', 'WRITE', 'READ_ACP', 'WRITE_ACP']);
const GRANT_HEADERS: Array<[string, Permission]> = [
  ['x-amz-grant-read', 'READ'], ['x-amz-grant-write', 'WRITE'], ['x-amz-grant-read-acp', 'READ_ACP'],
  ['x-amz-grant-write-acp', 'WRITE_ACP'], ['x-amz-grant-full-control', 'FULL_CONTROL'],
];
export const CANNED_ACLS = new Set([
  'private', 'public-read', 'public-read-write', 'authenticated-read', 'aws-exec-read', 'bucket-owner-read', 'bucket-owner-full-control', 'log-delivery-write',
]);

const user = (id: string): Grantee => ({ type: 'CanonicalUser', id });
const group = (uri: string): Grantee => ({ type: 'Group', uri });

/** The grants of a canned ACL for an owner (and, for objects, the bucket's owner). */
export function cannedGrants(name: string, owner: string, bucketOwner: string): Grant[] {
  const g: Grant[] = [{ grantee: user(owner), permission: 'FULL_CONTROL' }];
  if (name === 'public-read' || name === 'public-read-write') g.push({ grantee: group(ALL_USERS), permission: 'READ' });
  if (name === 'public-read-write') g.push({ grantee: group(ALL_USERS), permission: 'WRITE' });
  if (name === 'authenticated-read') g.push({ grantee: group(AUTHENTICATED_USERS), permission: 'READ' });
  if (name === 'log-delivery-write') g.push({ grantee: group(LOG_DELIVERY), permission: 'WRITE' }, { grantee: group(LOG_DELIVERY), permission: 'READ_ACP' });
  if (bucketOwner !== owner && name === 'bucket-owner-read') g.push({ grantee: user(bucketOwner), permission: 'READ' });
  if (bucketOwner !== owner && name === 'bucket-owner-full-control') g.push({ grantee: user(bucketOwner), permission: 'FULL_CONTROL' });
  return g;
}

export function defaultGrants(owner: string): Grant[] {
  return [{ grantee: user(owner), permission: 'FULL_CONTROL' }];
}

/** Whether the grants give `permission` to the principal (undefined: anonymous). */
export function aclPermits(grants: Grant[], principal: Account | undefined, permission: Permission, ignorePublic: boolean): boolean {
  for (const g of grants) {
    if (g.permission !== permission && g.permission !== 'FULL_CONTROL') continue;
    const e = g.grantee;
    if (e.type === 'CanonicalUser' ? principal?.canonicalId === e.id : !ignorePublic && (e.uri === ALL_USERS || (e.uri === AUTHENTICATED_USERS && principal !== undefined))) {
      return true;
    }
  }
  return false;
}

/** Grants to everyone or to every signed-in account: what Block Public Access calls public. */
export function isPublicAcl(grants: Grant[]): boolean {
  return grants.some((g) => g.grantee.type === 'Group' && (g.grantee.uri === ALL_USERS || g.grantee.uri === AUTHENTICATED_USERS));
}

/** Whether grants amount to the owner's and the bucket owner's FULL_CONTROL only (all BucketOwnerEnforced accepts). */
export function isBucketOwnerFullControl(grants: Grant[], bucketOwner: string): boolean {
  return grants.some((g) => g.grantee.type === 'CanonicalUser' && g.grantee.id === bucketOwner && g.permission === 'FULL_CONTROL')
    && grants.every((g) => g.grantee.type === 'CanonicalUser' && g.permission === 'FULL_CONTROL');
}

function resolveCanonical(ctx: RequestContext, id: string, argumentName: string): string {
  if (!/^[0-9a-f]{64}$/.test(id) || !ctx.deps.accounts.byCanonicalId(id)) throw new S3Error('InvalidArgument', 'Invalid id', { ArgumentName: argumentName, ArgumentValue: id });
  return id;
}

function resolveEmail(ctx: RequestContext, email: string): string {
  const a = ctx.deps.accounts.list().find((x) => x.email !== undefined && x.email.toLowerCase() === email.toLowerCase());
  if (!a) throw new S3Error('UnresolvableGrantByEmailAddress', undefined, { EmailAddress: email });
  return a.canonicalId;
}

function checkGroup(uri: string, argumentName: string): string {
  if (!GROUPS.has(uri)) throw new S3Error('InvalidArgument', 'Invalid group uri', { ArgumentName: argumentName, ArgumentValue: uri });
  return uri;
}

/** `x-amz-grant-read: id="...", uri="...", emailAddress="..."` */
function grantsFromHeader(ctx: RequestContext, name: string, permission: Permission, raw: string): Grant[] {
  const out: Grant[] = [];
  for (const part of raw.split(',')) {
    const item = part.trim();
    const m = item.match(/^(id|uri|emailAddress)\s*=\s*"?([^"]*)"?$/i);
    if (!m) throw new S3Error('InvalidArgument', 'Argument format not recognized', { ArgumentName: name, ArgumentValue: item });
    const kind = m[1].toLowerCase();
    const value = m[2];
    const grantee = kind === 'id' ? user(resolveCanonical(ctx, value, 'id')) : kind === 'uri' ? group(checkGroup(value, 'uri')) : user(resolveEmail(ctx, value));
    out.push({ grantee, permission });
  }
  return out;
}

/**
 * The ACL a request's headers set (canned or grants), or undefined when it
 * sets none. `owner` and `bucketOwner` are canonical ids.
 */
export function aclFromHeaders(ctx: RequestContext, owner: string, bucketOwner: string): Grant[] | undefined {
  const canned = ctx.headers['x-amz-acl'];
  const present = GRANT_HEADERS.filter(([h]) => typeof ctx.headers[h] === 'string');
  if (canned !== undefined && present.length > 0) throw new S3Error('InvalidRequest', 'Specifying both Canned ACLs and Header Grants is not allowed');
  if (typeof canned === 'string') {
    if (!CANNED_ACLS.has(canned)) throw new S3Error('InvalidArgument', '', { ArgumentName: 'x-amz-acl', ArgumentValue: canned });
    return cannedGrants(canned, owner, bucketOwner);
  }
  if (present.length === 0) return undefined;
  return present.flatMap(([h, p]) => grantsFromHeader(ctx, h, p, ctx.headers[h] as string));
}

const parser = new XMLParser({
  ignoreAttributes: false, attributeNamePrefix: '@', removeNSPrefix: true, parseTagValue: false, trimValues: true,
  processEntities: true, htmlEntities: false, ignoreDeclaration: true, isArray: (name) => name === 'Grant',
});

/** An `<AccessControlPolicy>` body: Owner is required, every grant well formed. */
export function aclFromXml(ctx: RequestContext, text: string): Grant[] {
  if (XMLValidator.validate(text) !== true) throw new S3Error('MalformedACLError');
  let doc: any;
  try {
    doc = parser.parse(text);
  } catch {
    throw new S3Error('MalformedACLError');
  }
  const acp = doc?.AccessControlPolicy;
  if (typeof acp !== 'object' || acp === null || typeof acp.Owner !== 'object' || typeof acp.Owner?.ID !== 'string') throw new S3Error('MalformedACLError');
  resolveCanonical(ctx, acp.Owner.ID, 'CanonicalUser/ID');
  const list = acp.AccessControlList === '' || acp.AccessControlList === undefined ? [] : acp.AccessControlList.Grant ?? [];
  return (list as any[]).map((g) => {
    const e = g?.Grantee;
    if (typeof e !== 'object' || !PERMISSIONS.has(g.Permission)) throw new S3Error('MalformedACLError');
    const type = e['@type'];
    if (type === 'CanonicalUser' && typeof e.ID === 'string') return { grantee: user(resolveCanonical(ctx, e.ID, 'CanonicalUser/ID')), permission: g.Permission };
    if (type === 'Group' && typeof e.URI === 'string') return { grantee: group(checkGroup(e.URI, 'Group/URI')), permission: g.Permission };
    if (type === 'AmazonCustomerByEmail' && typeof e.EmailAddress === 'string') return { grantee: user(resolveEmail(ctx, e.EmailAddress)), permission: g.Permission };
    throw new S3Error('MalformedACLError');
  });
}

/** The `<AccessControlPolicy>` document of GetBucketAcl and GetObjectAcl. */
export function aclXml(owner: string, grants: Grant[]): string {
  const xsi = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';
  const items = grants.map((g) => {
    const e = g.grantee;
    const inner = e.type === 'CanonicalUser' ? `<ID>${escapeXml(e.id)}</ID>` : `<URI>${escapeXml(e.uri)}</URI>`;
    return `<Grant><Grantee ${xsi} xsi:type="${e.type}">${inner}</Grantee><Permission>${g.permission}</Permission></Grant>`;
  });
  return '<?xml version="1.0" encoding="UTF-8"?>\n<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    + `<Owner><ID>${escapeXml(owner)}</ID></Owner><AccessControlList>${items.join('')}</AccessControlList></AccessControlPolicy>`;
}
