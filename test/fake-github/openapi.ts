/**
 * GitHub's REST API description (@octokit/openapi, `generated/api.github.com.json`) as a route index
 * and a small JSON-schema validator, for the fake GitHub server.
 *
 * The description is ~13 MB of JSON (about 0.4 s to parse). Only what request validation needs is
 * kept: every operation's method, path template, query parameters and request body schema, plus the
 * component schemas those reference. That compact index is built once per process (module-level
 * cache) and also written to `node_modules/.cache/fake-github/` keyed by the package version and file
 * size, so later test workers skip the big parse. `loadOpenApiDocument()` gives the whole document
 * (for tests that validate responses or webhook payloads against it).
 */
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** A JSON schema as used by the OpenAPI 3.0 description (loosely typed on purpose). */
export interface Schema {
  $ref?: string;
  type?: string | string[];
  nullable?: boolean;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  allOf?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  maxLength?: number;
  minLength?: number;
  maxItems?: number;
  minItems?: number;
  minimum?: number;
  maximum?: number;
  format?: string;
  [key: string]: unknown;
}

export type Segment = string | { param: string; multi: boolean };

export interface RouteEntry {
  method: string;
  /** the OpenAPI path key, e.g. `/repos/{owner}/{repo}/check-runs` */
  template: string;
  segments: Segment[];
  literals: number;
  query: Record<string, { required: boolean; schema: Schema }>;
  body: { required: boolean; schema: Schema } | null;
}

export interface RouteIndex {
  key: string;
  routes: RouteEntry[];
  schemas: Record<string, Schema>;
}

export interface RouteMatch {
  route: RouteEntry;
  params: Record<string, string>;
}

const INDEX_FORMAT = 2;
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
/** keys dropped from schemas in the compact index: documentation only */
const DOC_KEYS = new Set(['description', 'example', 'examples', 'title', 'externalDocs', 'x-github', 'discriminator', 'readOnly']);

function specPath(): string {
  return require.resolve('@octokit/openapi/generated/api.github.com.json');
}

let documentCache: Record<string, any> | null = null;

/** The whole OpenAPI document (parsed once per process). */
export function loadOpenApiDocument(): Record<string, any> {
  documentCache ??= JSON.parse(readFileSync(specPath(), 'utf8')) as Record<string, any>;
  return documentCache;
}

let indexCache: RouteIndex | null = null;

/** The compact route index (module-level cache, then on-disk cache, then built from the document). */
export function loadRouteIndex(): RouteIndex {
  if (indexCache) return indexCache;
  const file = specPath();
  const version = (require('@octokit/openapi/package.json') as { version: string }).version;
  const key = `${INDEX_FORMAT}-${version}-${statSync(file).size}`;
  const cacheFile = join(dirname(require.resolve('@octokit/openapi/package.json')), '..', '..', '.cache', 'fake-github', `openapi-index-${key}.json`);
  try {
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as RouteIndex;
    if (cached.key === key) return (indexCache = cached);
  } catch {
    // no cache yet
  }
  const index = buildRouteIndex(loadOpenApiDocument(), key);
  try {
    mkdirSync(dirname(cacheFile), { recursive: true });
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(index));
    renameSync(tmp, cacheFile);
  } catch {
    // read-only node_modules: fine, the module-level cache still holds
  }
  return (indexCache = index);
}

function parseTemplate(template: string, multi: Set<string>): Segment[] {
  return template
    .split('/')
    .slice(1)
    .map((s) => {
      const m = /^\{([^}]+)\}$/.exec(s);
      return m ? { param: m[1]!, multi: multi.has(m[1]!) } : s;
    });
}

/** Strip documentation keys, recursively, and collect the component schemas referenced. */
function compact(value: unknown, refs: Set<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => compact(v, refs));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (DOC_KEYS.has(k)) continue;
    if (k === '$ref' && typeof v === 'string') {
      refs.add(v.replace('#/components/schemas/', ''));
      out[k] = v;
      continue;
    }
    // property names may collide with DOC_KEYS ("description" is a real field): keep them all
    out[k] = k === 'properties' && v && typeof v === 'object'
      ? Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, compact(pv, refs)]))
      : compact(v, refs);
  }
  return out;
}

export function buildRouteIndex(doc: Record<string, any>, key = 'adhoc'): RouteIndex {
  const components = doc.components as { parameters: Record<string, any>; schemas: Record<string, any>; requestBodies?: Record<string, any> };
  const resolveParam = (p: any): any => (p.$ref ? components.parameters[String(p.$ref).split('/').pop()!] : p);
  const refs = new Set<string>();
  const routes: RouteEntry[] = [];
  for (const [template, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
    for (const method of METHODS) {
      const op = ops[method];
      if (!op) continue;
      const params = [...(ops.parameters ?? []), ...(op.parameters ?? [])].map(resolveParam);
      const multi = new Set<string>(params.filter((p) => p.in === 'path' && p['x-multi-segment']).map((p) => p.name as string));
      const query: RouteEntry['query'] = {};
      for (const p of params) if (p.in === 'query') query[p.name] = { required: Boolean(p.required), schema: compact(p.schema ?? {}, refs) as Schema };
      let body: RouteEntry['body'] = null;
      let rb = op.requestBody;
      if (rb?.$ref) rb = components.requestBodies?.[String(rb.$ref).split('/').pop()!];
      const json = rb?.content?.['application/json'] ?? rb?.content?.['application/x-www-form-urlencoded'];
      if (json?.schema) body = { required: Boolean(rb.required), schema: compact(json.schema, refs) as Schema };
      const segments = parseTemplate(template, multi);
      routes.push({
        method: method.toUpperCase(),
        template,
        segments,
        literals: segments.filter((s) => typeof s === 'string').length,
        query,
        body,
      });
    }
  }
  // transitive closure of the referenced component schemas
  const schemas: Record<string, Schema> = {};
  const queue = [...refs];
  while (queue.length) {
    const name = queue.pop()!;
    if (schemas[name] || !components.schemas[name]) continue;
    const more = new Set<string>();
    schemas[name] = compact(components.schemas[name], more) as Schema;
    for (const m of more) if (!schemas[m]) queue.push(m);
  }
  return { key, routes, schemas };
}

const routesByMethod = new WeakMap<RouteIndex, Map<string, RouteEntry[]>>();

/**
 * Match a request path (relative to the API root, raw/percent-encoded) against the index. Each raw
 * segment is decoded on its own, so `%2F` stays inside its parameter. Parameters marked
 * `x-multi-segment` (a file path, a ref) may span several segments. The most specific template wins
 * (most literal segments).
 */
export function matchRoute(index: RouteIndex, method: string, rawPath: string): RouteMatch | null {
  let byMethod = routesByMethod.get(index);
  if (!byMethod) {
    byMethod = new Map();
    for (const r of index.routes) {
      const list = byMethod.get(r.method) ?? [];
      list.push(r);
      byMethod.set(r.method, list);
    }
    routesByMethod.set(index, byMethod);
  }
  const raw = rawPath.replace(/\/+$/, '').split('/').slice(1);
  let segs: string[];
  try {
    segs = raw.map((s) => decodeURIComponent(s));
  } catch {
    return null;
  }
  let best: RouteMatch | null = null;
  for (const route of byMethod.get(method.toUpperCase()) ?? []) {
    if (route.segments.length > segs.length) continue;
    const first = route.segments[0];
    if (typeof first === 'string' && first !== segs[0]) continue;
    const params = matchSegments(route.segments, segs, 0, 0, {});
    if (params && (!best || route.literals > best.route.literals)) best = { route, params };
  }
  return best;
}

function matchSegments(tpl: Segment[], segs: string[], ti: number, si: number, acc: Record<string, string>): Record<string, string> | null {
  if (ti === tpl.length) return si === segs.length ? acc : null;
  if (si >= segs.length) return null;
  const t = tpl[ti]!;
  if (typeof t === 'string') return t === segs[si] ? matchSegments(tpl, segs, ti + 1, si + 1, acc) : null;
  if (segs[si] === '') return null;
  if (!t.multi) return matchSegments(tpl, segs, ti + 1, si + 1, { ...acc, [t.param]: segs[si]! });
  // a multi-segment parameter: take as few segments as the rest of the template allows
  const rest = tpl.length - ti - 1;
  for (let end = si + 1; end <= segs.length - rest; end++) {
    const got = matchSegments(tpl, segs, ti + 1, end, { ...acc, [t.param]: segs.slice(si, end).join('/') });
    if (got) return got;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// validation

export interface ValidateOptions {
  /** component schemas for `$ref`s */
  schemas: Record<string, Schema>;
  /** how deep into nested objects and arrays to look (0 = the value itself). Default: unlimited */
  maxDepth?: number;
  /** check `format: date-time` and `uri` strings. Default: true */
  formats?: boolean;
  /**
   * Treat object schemas that define `properties` as closed: a property no schema of the value
   * defines is an error, unless the description says `additionalProperties` (true or a schema, which
   * then validates the extra values). Properties count across composition: every `allOf` member's,
   * and those of the `anyOf`/`oneOf` alternative tried together with its siblings. Default: false
   * (responses and webhook payloads carry more than their schemas list); the fake sets it for request
   * bodies, where GitHub's description is the whole contract.
   */
  closed?: boolean;
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Validate a value against a schema; returns the problems as GitHub-style messages ("For 'x', ..."). */
export function validateSchema(schema: Schema, value: unknown, options: ValidateOptions, at = ''): string[] {
  const errors: string[] = [];
  check(schema, value, at, 0, options, errors, EMPTY, false);
  // allOf members and their parent may report the same problem
  return [...new Set(errors)];
}

const EMPTY: ReadonlySet<string> = new Set();

/**
 * The property names a schema defines for its value: its own and its `allOf` members' (through
 * `$ref`s); with `alternatives`, also those of `anyOf`/`oneOf` alternatives nested in the members.
 */
function definedProperties(schema: Schema, options: ValidateOptions, into: Set<string>, alternatives: boolean, seen = new Set<Schema>()): Set<string> {
  const s = resolve(schema, options);
  if (seen.has(s)) return into;
  seen.add(s);
  for (const name of Object.keys(s.properties ?? {})) into.add(name);
  for (const member of s.allOf ?? []) {
    definedProperties(member, options, into, alternatives, seen);
    if (alternatives) for (const alt of [...(resolve(member, options).anyOf ?? []), ...(resolve(member, options).oneOf ?? [])]) definedProperties(alt, options, into, true, seen);
  }
  return into;
}

/** Whether a schema (or one of its `allOf` members) describes an object by its properties. */
function describesProperties(schema: Schema, options: ValidateOptions, seen = new Set<Schema>()): boolean {
  const s = resolve(schema, options);
  if (seen.has(s)) return false;
  seen.add(s);
  return Boolean(s.properties && Object.keys(s.properties).length) || (s.allOf ?? []).some((m) => describesProperties(m, options, seen));
}

/** `additionalProperties` of the schema or of any `allOf` member: true, a schema, or undefined (closed) / false. */
function additionalOf(schema: Schema, options: ValidateOptions, seen = new Set<Schema>()): Schema | true | undefined {
  const s = resolve(schema, options);
  if (seen.has(s)) return undefined;
  seen.add(s);
  const own = s.additionalProperties as Schema | boolean | undefined;
  if (own === true) return true;
  if (own && typeof own === 'object') return Object.keys(own).length ? own : true;
  for (const m of s.allOf ?? []) {
    const found = additionalOf(m, options, seen);
    if (found) return found;
  }
  return undefined;
}

function resolve(schema: Schema, options: ValidateOptions): Schema {
  let s = schema;
  for (let i = 0; s.$ref && i < 20; i++) {
    const name = s.$ref.replace('#/components/schemas/', '');
    const target = options.schemas[name];
    if (!target) return {};
    s = target;
  }
  return s;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function label(at: string): string {
  return at === '' ? 'the body' : `'${at}'`;
}

/**
 * `inherited`: property names defined for this value by schemas composed with this one (allOf
 * siblings, the parent of an anyOf/oneOf alternative), which a closed object check must accept.
 * `member`: the schema is an `allOf` member; its parent judges the extra properties for all members.
 */
function check(raw: Schema, value: unknown, at: string, depth: number, options: ValidateOptions, errors: string[], inherited: ReadonlySet<string>, member: boolean): void {
  const schema = resolve(raw, options);
  if (value === undefined) return;
  if (value === null && schema.nullable) return;
  const isObject = options.closed === true && typeOf(value) === 'object';
  // every property the value may carry at this level: ours, our allOf members', what composed us
  const allowed = isObject ? definedProperties(schema, options, new Set(inherited), false) : EMPTY;
  if (schema.allOf) for (const s of schema.allOf) check(s, value, at, depth, options, errors, allowed, true);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) {
    const tried = alternatives.map((s) => {
      const e: string[] = [];
      check(s, value, at, depth, options, e, allowed, false);
      return e;
    });
    if (!tried.some((e) => e.length === 0)) {
      const closest = tried.reduce((a, b) => (b.length < a.length ? b : a));
      errors.push(`For ${label(at)}, the value matches none of the allowed schemas (closest: ${closest.join('; ')})`);
    }
  }
  if (value === null) {
    const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
    if (types.length && !schema.nullable && !types.includes('null')) errors.push(`For ${label(at)}, null is not a valid value (expected ${types.join('|')})`);
    return;
  }
  const actual = typeOf(value);
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length && !types.some((t) => t === actual || (t === 'number' && actual === 'integer'))) {
    errors.push(`For ${label(at)}, ${JSON.stringify(value)?.slice(0, 80)} is not of type ${types.join('|')}`);
    return;
  }
  if (schema.enum && !schema.enum.includes(value)) {
    errors.push(`For ${label(at)}, ${JSON.stringify(value)} is not a member of [${schema.enum.map((e) => JSON.stringify(e)).join(', ')}]`);
  }
  if (typeof value === 'string') {
    if (schema.maxLength !== undefined && value.length > schema.maxLength) errors.push(`For ${label(at)}, the string is longer than ${schema.maxLength} characters (${value.length})`);
    if (schema.minLength !== undefined && value.length < schema.minLength) errors.push(`For ${label(at)}, the string is shorter than ${schema.minLength} characters`);
    if (options.formats !== false && schema.format === 'date-time' && !(DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)))) {
      errors.push(`For ${label(at)}, ${JSON.stringify(value)} is not a valid ISO 8601 date-time`);
    }
    if (options.formats !== false && schema.format === 'uri' && !URL.canParse(value)) errors.push(`For ${label(at)}, ${JSON.stringify(value)} is not a valid URI`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(`For ${label(at)}, ${value} is less than ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(`For ${label(at)}, ${value} is greater than ${schema.maximum}`);
  }
  const deeper = options.maxDepth === undefined || depth < options.maxDepth;
  // closed objects: the alternatives of an anyOf/oneOf judge the extra properties (each with its own)
  if (isObject && !member && !alternatives && (describesProperties(schema, options) || inherited.size > 0)) {
    const extra = additionalOf(schema, options);
    // alternatives nested in allOf members judge their own properties: accept them here
    const known = schema.allOf ? definedProperties(schema, options, new Set(allowed), true) : allowed;
    if (extra !== true) {
      for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
        if (known.has(name)) continue;
        if (extra) {
          if (deeper) check(extra, v, at ? `${at}/${name}` : name, depth + 1, options, errors, EMPTY, false);
        } else errors.push(`For ${label(at)}, "${name}" is not a property GitHub's description defines`);
      }
    }
  }
  if (actual === 'object' && (schema.properties || schema.required)) {
    const obj = value as Record<string, unknown>;
    for (const name of schema.required ?? []) {
      if (obj[name] === undefined) errors.push(`For ${label(at)}, "${name}" wasn't supplied`);
    }
    if (deeper) {
      for (const [name, sub] of Object.entries(schema.properties ?? {})) {
        if (obj[name] !== undefined) check(sub, obj[name], at ? `${at}/${name}` : name, depth + 1, options, errors, EMPTY, false);
      }
    }
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errors.push(`For ${label(at)}, more than ${schema.maxItems} items`);
    if (schema.minItems !== undefined && value.length < schema.minItems) errors.push(`For ${label(at)}, fewer than ${schema.minItems} items`);
    if (deeper && schema.items) value.forEach((item, i) => check(schema.items!, item, `${at}/${i}`, depth + 1, options, errors, EMPTY, false));
  }
}

/** Validate a query string value (always a string) against a parameter schema. */
export function validateQueryValue(name: string, schema: Schema, value: string, options: ValidateOptions): string | null {
  const s = resolve(schema, options);
  if (s.enum && !s.enum.includes(value)) return `For '${name}', ${JSON.stringify(value)} is not a member of [${s.enum.map((e) => JSON.stringify(e)).join(', ')}]`;
  if ((s.type === 'integer' || s.type === 'number') && !/^-?\d+(\.\d+)?$/.test(value)) return `For '${name}', ${JSON.stringify(value)} is not a number`;
  if (s.type === 'boolean' && value !== 'true' && value !== 'false') return `For '${name}', ${JSON.stringify(value)} is not a boolean`;
  return null;
}
