/** Small pieces shared by the API, the incident-tool webhooks and the dashboard. */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Request bodies above this are refused with 413 before they are parsed. */
export const MAX_BODY_BYTES = 64 * 1024;

/** An answer with a status and a JSON `{"error": message}` body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Bodies the server (src/http/server.ts) has already read, within its limit, before the routes ran. */
const alreadyRead = new WeakMap<IncomingMessage, Buffer>();

/** Called by the server once it has read a request's body (at most MAX_BODY_BYTES). */
export function setReadBody(req: IncomingMessage, body: Buffer): void {
  alreadyRead.set(req, body);
}

/** The raw body, at most `limit` bytes (413 past it, without reading the rest into memory). */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const read = alreadyRead.get(req);
  if (read) {
    if (read.length > limit) throw new HttpError(413, `the body is larger than ${limit / 1024} KiB`);
    return read;
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw new HttpError(413, `the body is larger than ${limit / 1024} KiB`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) {
      req.resume();
      throw new HttpError(413, `the body is larger than ${limit / 1024} KiB`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** The body parsed as JSON; an empty body is `emptyAs` (400 for anything that is not JSON). */
export async function readJson(req: IncomingMessage, emptyAs: unknown = undefined): Promise<unknown> {
  const raw = await readBody(req);
  return parseJson(raw, emptyAs);
}

export function parseJson(raw: Buffer, emptyAs: unknown = undefined): unknown {
  const text = raw.toString('utf8');
  if (text.trim() === '') {
    if (emptyAs === undefined) throw new HttpError(400, 'the body must be a JSON object');
    return emptyAs;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(400, `the body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

const sha256 = (text: string | Buffer): Buffer => createHash('sha256').update(text).digest();

/** Constant-time equality of two secrets of any length (their SHA-256 digests are compared). */
export function secretEquals(given: string | Buffer, expected: string | Buffer): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

/** hex HMAC-SHA256 */
export function hmacHex(key: string | Buffer, data: string | Buffer): string {
  return createHmac('sha256', key).update(data).digest('hex');
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return null;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match ? match[1]! : null;
}

/**
 * A name for the audit log from the `X-Moratorium-Actor` header: letters, digits and `._@/-` only
 * (anything else dropped), at most 64 characters; `api` when nothing is left.
 */
export function sanitizeActor(header: string | string[] | undefined): string {
  const raw = Array.isArray(header) ? header[0] : header;
  if (!raw) return 'api';
  const clean = raw.normalize('NFKC').replace(/[^A-Za-z0-9._@/-]/g, '').slice(0, 64);
  return clean === '' ? 'api' : clean;
}

/** The cookies of a request (first value of each name wins). */
export function cookies(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const name = part.slice(0, i).trim();
    if (!name || out.has(name)) continue;
    let value = part.slice(i + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      // keep it raw
    }
    out.set(name, value);
  }
  return out;
}
