import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dotEnvPath, formatLine, loadDotEnv, writeDotEnv } from '../../../src/setup/dotenv.js';

const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0\nabc+/=\n-----END RSA PRIVATE KEY-----\n';

describe('.env', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'moratorium-dotenv-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes values that read back exactly (a multi-line key included), mode 0600, no temporary file left', () => {
    const file = join(dir, '.env');
    const values = { APP_ID: '123', PRIVATE_KEY: PEM, WEBHOOK_SECRET: 'a b "c"', GITHUB_CLIENT_ID: 'Iv1.abc', GITHUB_CLIENT_SECRET: 'f00' };
    writeDotEnv(file, values);
    expect(parseEnv(readFileSync(file, 'utf8'))).toEqual(values);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['.env']);
  });

  it('keeps the other lines of an existing file and replaces the lines of the keys it writes', () => {
    const file = join(dir, '.env');
    writeFileSync(file, '# mine\nPORT=4000\nAPP_ID=\nexport WEBHOOK_SECRET=old\nLOG_LEVEL=debug\n');
    writeDotEnv(file, { APP_ID: '9', WEBHOOK_SECRET: 'new' });
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# mine\nPORT=4000\n');
    expect(parseEnv(text)).toEqual({ PORT: '4000', LOG_LEVEL: 'debug', APP_ID: '9', WEBHOOK_SECRET: 'new' });
  });

  it('refuses what it cannot write so that it reads back, and then leaves the file as it was', () => {
    const file = join(dir, '.env');
    writeFileSync(file, 'KEEP=1\n');
    expect(() => writeDotEnv(file, { X: `a"\nb'` })).toThrow(/cannot be written/);
    expect(() => formatLine('BAD KEY', 'x')).toThrow(/not a variable name/);
    expect(readFileSync(file, 'utf8')).toBe('KEEP=1\n');
  });

  it('loads a file over the target (as Probot does), and nothing when there is none', () => {
    const file = join(dir, '.env');
    const target: NodeJS.ProcessEnv = { APP_ID: 'from-env', OTHER: 'x' };
    expect(loadDotEnv(file, target)).toEqual({});
    expect(target).toEqual({ APP_ID: 'from-env', OTHER: 'x' });
    writeDotEnv(file, { APP_ID: '42', PRIVATE_KEY: PEM });
    loadDotEnv(file, target);
    expect(target).toEqual({ APP_ID: '42', PRIVATE_KEY: PEM, OTHER: 'x' });
    expect(existsSync(file)).toBe(true);
  });

  it('is MORATORIUM_ENV_FILE when set, else .env in the working directory', () => {
    expect(dotEnvPath({}, '/srv/app')).toBe('/srv/app/.env');
    expect(dotEnvPath({ MORATORIUM_ENV_FILE: '/data/.env' }, '/srv/app')).toBe('/data/.env');
    expect(dotEnvPath({ MORATORIUM_ENV_FILE: 'conf/env' }, '/srv/app')).toBe('/srv/app/conf/env');
  });
});
