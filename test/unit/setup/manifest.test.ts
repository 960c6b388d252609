import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildManifest, createAppUrl, publicBaseUrl } from '../../../src/setup/manifest.js';

const APP_YML = readFileSync(new URL('../../../app.yml', import.meta.url), 'utf8');

describe('the first run manifest (app.yml, URLs rebased)', () => {
  it("keeps app.yml's name, description, permissions and events, and rebases the webhook, redirect and callback URLs", () => {
    const yml = parse(APP_YML) as Record<string, any>;
    const m = buildManifest(APP_YML, 'https://gate.example.org', { webhookPath: '/api/github/webhooks' });
    expect(m.name).toBe(yml.name);
    expect(m.description).toBe(yml.description);
    expect(m.default_permissions).toEqual(yml.default_permissions);
    expect(m.default_events).toEqual(yml.default_events);
    expect(m.public).toBe(false);
    // app.yml's placeholder webhook URL is not what GitHub gets
    expect(yml.hook_attributes.url).toContain('example.com');
    expect(m.hook_attributes.url).toBe('https://gate.example.org/api/github/webhooks');
    expect(m.redirect_url).toBe('https://gate.example.org/moratorium/setup/callback');
    expect(m.callback_urls).toEqual(['https://gate.example.org/moratorium/dashboard/auth/callback']);
  });

  it('rebases what app.yml says about redirect and callback URLs too, uses WEBHOOK_PATH, and WEBHOOK_PROXY_URL when set', () => {
    const yml = 'name: X\nredirect_url: https://old.example/r\ncallback_urls: [https://old.example/c]\nhook_attributes:\n  url: https://old.example/h\n  active: true\n';
    const m = buildManifest(yml, 'http://localhost:3000', { webhookPath: 'hooks' });
    expect(m.hook_attributes).toEqual({ url: 'http://localhost:3000/hooks', active: true });
    expect(m.redirect_url).toBe('http://localhost:3000/moratorium/setup/callback');
    expect(m.callback_urls).toEqual(['http://localhost:3000/moratorium/dashboard/auth/callback']);
    expect(buildManifest(yml, 'http://localhost:3000', { webhookPath: '/x', webhookProxyUrl: 'https://smee.io/abc' }).hook_attributes.url).toBe('https://smee.io/abc');
  });

  it('refuses a malformed app.yml', () => {
    expect(() => buildManifest('- a list', 'http://x', { webhookPath: '/' })).toThrow(/not a mapping/);
    expect(() => buildManifest('description: no name', 'http://x', { webhookPath: '/' })).toThrow(/no name/);
    expect(() => buildManifest('name: X\ndefault_events: push', 'http://x', { webhookPath: '/' })).toThrow(/default_events/);
    expect(() => buildManifest('name: X\ndefault_permissions: [checks]', 'http://x', { webhookPath: '/' })).toThrow(/default_permissions/);
  });
});

describe("the server's own URL", () => {
  it('is the request origin, the first X-Forwarded-Proto and X-Forwarded-Host winning over Host', () => {
    expect(publicBaseUrl({ host: '127.0.0.1:3000' }, { encrypted: false })).toBe('http://127.0.0.1:3000');
    expect(publicBaseUrl({ host: 'a.example' }, { encrypted: true })).toBe('https://a.example');
    expect(publicBaseUrl({ host: 'inner:3000', 'x-forwarded-proto': 'https,http', 'x-forwarded-host': 'Gate.Example.org, inner' }, { encrypted: false })).toBe('https://gate.example.org');
    // a protocol that is neither http nor https is ignored
    expect(publicBaseUrl({ host: 'a.example', 'x-forwarded-proto': 'javascript' }, { encrypted: false })).toBe('http://a.example');
    expect(publicBaseUrl({ host: '[::1]:3000' }, { encrypted: false })).toBe('http://[::1]:3000');
  });

  it('is MORATORIUM_PUBLIC_URL when set, whatever the request says', () => {
    expect(publicBaseUrl({ host: 'a', 'x-forwarded-host': 'b' }, { encrypted: false, publicUrl: 'https://gate.example.org/' })).toBe('https://gate.example.org');
  });

  it('is null for a missing or malformed host (nothing of it reaches the page)', () => {
    expect(publicBaseUrl({}, { encrypted: false })).toBeNull();
    expect(publicBaseUrl({ host: 'a.example/path' }, { encrypted: false })).toBeNull();
    expect(publicBaseUrl({ host: 'ok.example', 'x-forwarded-host': 'x"><script>' }, { encrypted: false })).toBeNull();
    expect(publicBaseUrl({ host: 'user@host' }, { encrypted: false })).toBeNull();
  });
});

describe('where the manifest form posts', () => {
  it("is github.com's, an organisation's, or GitHub Enterprise Server's new-App page, with the state", () => {
    expect(createAppUrl({ gheProtocol: 'https', state: 's1' })).toBe('https://github.com/settings/apps/new?state=s1');
    expect(createAppUrl({ gheProtocol: 'https', org: 'acme', state: 's1' })).toBe('https://github.com/organizations/acme/settings/apps/new?state=s1');
    expect(createAppUrl({ gheHost: 'ghe.example.com', gheProtocol: 'http', state: 's1' })).toBe('http://ghe.example.com/settings/apps/new?state=s1');
    expect(createAppUrl({ gheHost: 'ghe.example.com', gheProtocol: 'https', org: 'ops', state: 's 1' })).toBe('https://ghe.example.com/organizations/ops/settings/apps/new?state=s%201');
  });
});
