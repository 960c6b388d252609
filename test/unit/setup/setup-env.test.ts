import { describe, expect, it } from 'vitest';
import { needsSetup, readEnv, readSetupEnv } from '../../../src/env.js';

describe('the first run environment', () => {
  it('is needed without APP_ID (unset, empty or blank), not with one', () => {
    expect(needsSetup({})).toBe(true);
    expect(needsSetup({ APP_ID: '' })).toBe(true);
    expect(needsSetup({ APP_ID: '  ' })).toBe(true);
    expect(needsSetup({ APP_ID: '12' })).toBe(false);
  });

  it('validates everything but the credentials, as the full environment does', () => {
    const e = readSetupEnv({ PORT: '4000', GHE_HOST: 'ghe.example.com', MORATORIUM_PUBLIC_URL: 'https://gate.example.org/' });
    expect(e.PORT).toBe(4000);
    expect(e.baseUrl).toBe('https://ghe.example.com/api/v3');
    expect(e.MORATORIUM_PUBLIC_URL).toBe('https://gate.example.org');
    expect(() => readSetupEnv({ PORT: 'abc' })).toThrow(/invalid environment:\n- PORT/);
    expect(() => readSetupEnv({ MORATORIUM_PUBLIC_URL: 'https://gate.example.org/moratorium' })).toThrow(/MORATORIUM_PUBLIC_URL must be an http:\/\/ or https:\/\/ origin/);
    expect(() => readSetupEnv({ MORATORIUM_PUBLIC_URL: 'ftp://gate.example.org' })).toThrow(/MORATORIUM_PUBLIC_URL/);
    expect(() => readSetupEnv({ GH_ORG: 'not an org' })).toThrow(/GH_ORG/);
    // the full environment still requires the credentials
    expect(() => readEnv({})).toThrow(/APP_ID/);
  });
});
