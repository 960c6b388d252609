/** The API's shared input schemas and how a body that does not fit becomes a 400. */
import { z } from 'zod';
import { HttpError } from './http-util.js';

/** A GitHub login (GHES allows `_` and `.` in some setups): what the store can hold as an account. */
export const accountSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,99})$/, 'must be a GitHub account login (the organisation or user the app is installed on)');

/** A repository name without its owner. */
export const repoSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9._-]{1,100}$/, 'must be a repository name without its owner, such as "api"')
  .refine((r) => r !== '.' && r !== '..', 'must be a repository name');

export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => {
    const where = i.path.length ? i.path.map(String).join('.') : 'body';
    if (i.code === 'unrecognized_keys') return `${where}: unknown key(s) ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    return `${where}: ${i.message}`;
  });
  throw new HttpError(400, problems.join('; '));
}

