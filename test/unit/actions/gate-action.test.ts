/**
 * actions/gate/action.yml: its inputs and defaults, and its step run as GitHub's runner would
 * (bash, the inputs in the step's env, GITHUB_ACTION_PATH set) against the app's routes on 127.0.0.1.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION, action, runStep } from '../../support/gate-action.js';
import { serve, TOKEN, type Served } from '../http/support.js';

describe('the composite action actions/gate/action.yml', () => {
  it('declares the inputs with the workflow defaults', () => {
    expect(action.runs.using).toBe('composite');
    expect(Object.keys(action.inputs).sort()).toEqual(['environment', 'repo', 'sha', 'timeout', 'url', 'wait']);
    expect(action.inputs.url).toMatchObject({ required: true });
    expect(action.inputs.environment).toMatchObject({ required: true });
    expect(action.inputs.repo!.default).toBe('${{ github.repository }}');
    expect(action.inputs.sha!.default).toBe('${{ github.sha }}');
    expect(action.inputs.wait!.default).toBe('false');
    expect(action.inputs.timeout!.default).toMatch(/^\d+[smhd]$/);
    expect(readFileSync(ACTION, 'utf8')).toMatch(/permissions: id-token: write/);
  });

  it('runs `moratorium gate` from its own checkout with node, passing every input', () => {
    const step = action.runs.steps[0]!;
    expect(step.shell).toBe('bash');
    expect(step.run).toMatch(/node "\$root\/bin\/moratorium\.js" "\$\{args\[@\]\}"/);
    expect(step.run).toContain('root="$GITHUB_ACTION_PATH/../.."');
    expect(step.run).toMatch(/args=\(gate --url "\$MORATORIUM_URL" --repo "\$MORATORIUM_REPO" --environment "\$MORATORIUM_ENVIRONMENT" --timeout "\$MORATORIUM_TIMEOUT"\)/);
    expect(step.run).toMatch(/--sha "\$MORATORIUM_SHA"/);
    expect(step.run).toMatch(/args\+=\(--wait\)/);
    // inputs reach the script only through env, never pasted into it (no script injection)
    expect(step.run).not.toMatch(/\$\{\{/);
    expect(Object.values(step.env).every((v) => /^\$\{\{ inputs\.[a-z]+ \}\}$/.test(v))).toBe(true);
  });

  describe('its step against the app', () => {
    let app: Served;
    beforeAll(async () => {
      app = await serve();
    });
    afterAll(async () => app.close());

    it('passes (exit 0) when the gate is open and fails (exit 1) with the title when blocked', async () => {
      const inputs = { url: app.url, repo: 'acme/api', environment: 'production', sha: 'a'.repeat(40) };
      const open = await runStep(inputs, { MORATORIUM_TOKEN: TOKEN });
      expect(open.code, open.stderr).toBe(0);
      expect(open.stdout).toMatch(/^open: Open/);
      const freeze = await app.fetch('/moratorium/api/v1/freezes', { method: 'POST', json: { account: 'acme', mode: 'all', reason: 'release' } });
      expect(freeze.status).toBe(201);
      const blocked = await runStep(inputs, { MORATORIUM_TOKEN: TOKEN });
      expect(blocked.code).toBe(1);
      expect(blocked.stdout).toMatch(/^blocked: Frozen/);
      const bad = await runStep({ ...inputs, sha: 'not-a-sha' }, { MORATORIUM_TOKEN: TOKEN });
      expect(bad.code).toBe(2);
    });
  });
});
