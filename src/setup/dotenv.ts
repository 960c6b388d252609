/**
 * The `.env` file (SPEC 11): read at start, as Probot does (its values override the environment),
 * and written by the first run with the credentials GitHub returned. Node's own parser
 * (`util.parseEnv`) reads it; the writer keeps every other line of an existing file as it was.
 */
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';

/** Where the `.env` is read and written: `MORATORIUM_ENV_FILE`, else `.env` in the working directory. */
export function dotEnvPath(source: NodeJS.ProcessEnv, cwd = process.cwd()): string {
  return resolve(cwd, source.MORATORIUM_ENV_FILE?.trim() || '.env');
}

/** The file's variables ({} when there is none); they are copied over `target` (Probot's `.env` semantics). */
export function loadDotEnv(path: string, target: NodeJS.ProcessEnv): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`the .env file ${path} cannot be read: ${(error as Error).message}`);
  }
  const values = parseEnv(text) as Record<string, string>;
  Object.assign(target, values);
  return values;
}

/** One `KEY=value` line that `util.parseEnv` reads back as exactly `value`. */
export function formatLine(key: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`${key} is not a variable name`);
  if (/^[A-Za-z0-9_./:+=@,-]*$/.test(value)) return `${key}=${value}`;
  // double quotes: newlines written as \n (read back as newlines); nothing else may need escaping
  if (!value.includes('"') && !value.includes('\\') && !value.includes('\r')) return `${key}="${value.replace(/\n/g, '\\n')}"`;
  if (!value.includes("'") && !value.includes('\n') && !value.includes('\r')) return `${key}='${value}'`;
  throw new Error(`the value of ${key} cannot be written to a .env file`);
}

/**
 * Sets `values` in the file: lines of these keys are replaced, every other line is kept, new keys
 * are appended. Written to a temporary file (mode 0600: it holds a private key) and renamed over the
 * old one, so a crash never leaves half a file. The written file is read back and must give `values`.
 */
export function writeDotEnv(path: string, values: Record<string, string>): void {
  let existing = '';
  try {
    existing = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const lines = Object.entries(values).map(([k, v]) => formatLine(k, v));
  const keys = new Set(Object.keys(values));
  // (a multi-line quoted value of one of these keys in the old file would leave its other lines
  // behind: the read-back check below then refuses to write)
  const kept = existing === '' ? [] : existing.replace(/\n$/, '').split('\n').filter((line) => !keys.has(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1] ?? ''));
  const text = `${[...kept, ...lines].join('\n')}\n`;
  const back = parseEnv(text) as Record<string, string>;
  for (const [k, v] of Object.entries(values)) if (back[k] !== v) throw new Error(`${k} would not read back as written`);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}
