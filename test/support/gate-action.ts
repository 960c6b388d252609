/** actions/gate/action.yml, parsed, and its step run as GitHub's runner runs it (bash, inputs in the step's env). */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const ACTION = join(ROOT, 'actions/gate/action.yml');
export const action = parse(readFileSync(ACTION, 'utf8')) as {
  name: string;
  inputs: Record<string, { required?: boolean; default?: string; description: string }>;
  runs: { using: string; steps: { shell: string; run: string; env: Record<string, string> }[] };
};

/** The step's script as the runner runs it: `${{ inputs.x }}` in its env replaced by the given inputs. */
export function runStep(inputs: Record<string, string>, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const step = action.runs.steps[0]!;
  const withDefaults: Record<string, string> = {};
  for (const [name, def] of Object.entries(action.inputs)) withDefaults[name] = inputs[name] ?? (def.default?.startsWith('${{') ? '' : (def.default ?? ''));
  const stepEnv = Object.fromEntries(Object.entries(step.env).map(([k, v]) => [k, v.replace(/\$\{\{\s*inputs\.([a-z_-]+)\s*\}\}/g, (_m, n: string) => withDefaults[n] ?? '')]));
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', step.run], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', GITHUB_ACTION_PATH: join(ROOT, 'actions/gate'), ...stepEnv, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

