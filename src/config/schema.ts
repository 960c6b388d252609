/**
 * `.github/moratorium.yml`, schema first (SPEC section 3). Every key is optional; the defaults here
 * are the SPEC's. The Config type is inferred from the schema, and `npm run schema` writes a JSON
 * Schema from it for editors.
 *
 * A valid config is compiled as it is parsed (the schema's last step, `compileConfig`): each window
 * gets its plan (parsed cron, compiled zone, range instants), each cadence its durations in ms, each
 * list of branch patterns its regular expressions. The gate reads those and parses nothing itself.
 * A compiled config is never changed: to change one, parse the changed source.
 */
import { z } from 'zod';
import { formatDuration, parseDuration } from '../time/duration.js';
import { cronProblem } from '../time/cron.js';
import { parseIsoTime } from '../time/iso.js';
import { compileWindow, type WindowPlan } from '../time/windows.js';
import { windowPeriod } from '../time/notices.js';
import { isValidTimezone, zone } from '../time/zone.js';
import { compilePattern, pathPatternProblem, type BranchPattern } from './patterns.js';

export const LEVELS = ['read', 'triage', 'write', 'maintain', 'admin'] as const;
export type Level = (typeof LEVELS)[number];
export const SEVERITIES = ['sev1', 'sev2', 'sev3', 'sev4'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const MODES = ['all', 'features'] as const;
export type Mode = (typeof MODES)[number];

const duration = z
  .string()
  .refine((s) => parseDuration(s) !== null, {
    message: 'expected a positive duration such as 90s, 30m, 4h, 2d or 1h30m',
  })
  .describe('A duration: 90s, 30m, 4h, 2d, or combinations such as 1h30m');

const timezone = z
  .string()
  .refine(isValidTimezone, { message: 'unknown IANA timezone (for example Europe/Berlin)' })
  .describe('An IANA timezone such as Europe/Berlin');

const loginOrTeam = /^@?[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\[bot\])?(?:\/[A-Za-z0-9._-]+)?$/;

/** A level, or a list of levels, logins and org/team slugs (`@` optional). */
const permission = z
  .union([
    z.enum(LEVELS),
    z
      .array(
        z.string().refine((s) => (LEVELS as readonly string[]).includes(s) || loginOrTeam.test(s), {
          message: 'expected a level (read|triage|write|maintain|admin), a login or an org/team slug',
        }),
      )
      .min(1, { message: 'a list of who may act needs at least one entry' }),
  ])
  .describe('A permission level (that level or higher), or a list of levels, logins and org/team slugs');

export type Permission = z.infer<typeof permission>;

/** `write`, or `one of: write, @acme/sre` for a list. */
export function describePermission(p: Permission): string {
  if (typeof p === 'string') return p;
  return p.length === 1 ? p[0]! : `one of: ${p.join(', ')}`;
}

const mode = z.enum(MODES).describe('all blocks every gated change; features blocks everything but hotfixes');

const cadenceLimits = {
  max: z.number().int().min(1).describe('At most this many deploys in any rolling `per`'),
  per: duration.describe('The rolling period `max` counts over'),
  min_interval: duration.optional().describe('At least this long between two deploys'),
};

const cadence = z
  .object({
    ...cadenceLimits,
    counts: z
      .enum(['merges', 'deployments'])
      .default('merges')
      .describe('merges: PRs merged into a gated branch; deployments: successful deployments'),
    environments: z
      .array(z.string().min(1))
      .default(['production'])
      .describe('With counts: deployments, the environments whose deployments count'),
  })
  .strict();

const recoveryCadence = z.object(cadenceLimits).strict();

const localTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?$/, {
    message: 'expected a local time such as 2026-12-21T00:00 (no offset: the window timezone applies)',
  });

/**
 * A window is either recurring (`cron` + `duration`) or a single range (`from` + `to`). One object
 * with a refinement, rather than a union, so a mistake is reported against the key that is wrong.
 */
const window = z
  .object({
    name: z.string().min(1).max(100).describe('Shown in checks and replies'),
    timezone: timezone.default('UTC'),
    mode: mode.default('features'),
    cron: z
      .string()
      .superRefine((expr, ctx) => {
        const problem = cronProblem(expr);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional()
      .describe('Five-field cron expression for each start, in the window timezone'),
    duration: duration.optional().describe('How long each occurrence lasts, in wall-clock time'),
    from: localTime.optional().describe('Start of a one-off window, local time in the window timezone'),
    to: localTime.optional().describe('End of a one-off window, local time in the window timezone'),
    notify_before: duration
      .optional()
      .describe('Announce each occurrence this long before it starts (MORATORIUM_SLACK_WEBHOOK_URL); at most the time between two starts'),
  })
  .strict()
  .superRefine((w, ctx) => {
    const recurring = w.cron !== undefined || w.duration !== undefined;
    const range = w.from !== undefined || w.to !== undefined;
    if (recurring && range) {
      ctx.addIssue({ code: 'custom', message: 'a window has either cron + duration or from + to, not both' });
      return;
    }
    if (!recurring && !range) {
      ctx.addIssue({ code: 'custom', message: 'a window needs cron + duration, or from + to' });
      return;
    }
    if (recurring) {
      if (w.cron === undefined) ctx.addIssue({ code: 'custom', path: ['cron'], message: 'required with duration' });
      if (w.duration === undefined) ctx.addIssue({ code: 'custom', path: ['duration'], message: 'required with cron' });
      return;
    }
    if (w.from === undefined) ctx.addIssue({ code: 'custom', path: ['from'], message: 'required with to' });
    if (w.to === undefined) ctx.addIssue({ code: 'custom', path: ['to'], message: 'required with from' });
    if (w.from === undefined || w.to === undefined || !isValidTimezone(w.timezone)) return;
    const from = parseIsoTime(w.from, { zone: zone(w.timezone), form: 'local' });
    const to = parseIsoTime(w.to, { zone: zone(w.timezone), form: 'local' });
    if (from === null) ctx.addIssue({ code: 'custom', path: ['from'], message: 'not a valid date and time' });
    if (to === null) ctx.addIssue({ code: 'custom', path: ['to'], message: 'not a valid date and time' });
    if (from !== null && to !== null && to <= from)
      ctx.addIssue({ code: 'custom', path: ['to'], message: '`to` must be after `from`' });
  })
  .superRefine((w, ctx) => {
    // notify_before: at most the window's period, so each notice is about one coming occurrence
    const lead = w.notify_before === undefined ? null : parseDuration(w.notify_before);
    if (lead === null) return;
    let period: number | null;
    try {
      period = windowPeriod(compileWindow(w));
    } catch {
      return; // the window itself is invalid: reported above
    }
    if (period !== null && lead > period)
      ctx.addIssue({
        code: 'custom',
        path: ['notify_before'],
        message: `longer than the time between two starts of this window: at most ${formatDuration(period)}`,
      });
  });



const configSource = z
  .object({
    _extends: z
      .string()
      .optional()
      .describe("Inherit another repository's file (Probot): `repo` or `owner/repo`; resolved before validation"),
    branches: z
      .array(z.string().min(1))
      .default([])
      .describe('Gated base branches (* stops at /, ** crosses it); empty means the default branch'),
    enforcement: z
      .enum(['check', 'status'])
      .default('check')
      .describe('check: a check run; status: a commit status; both named "moratorium"'),
    permissions: z
      .object({
        freeze: permission.default('write').describe('/freeze'),
        lift: permission.default('maintain').describe('/unfreeze and /incident close'),
        incident: permission.default('write').describe('/incident open and /incident resolve'),
        override: permission.default('maintain').describe('/override'),
      })
      .strict()
      .prefault({})
      .describe('Who may do what'),
    exempt: z
      .object({
        labels: z.array(z.string().min(1)).default(['hotfix']).describe('Labels that make a PR a hotfix'),
        labeled_by: permission
          .default('write')
          .describe('The label counts only if added by someone with this permission'),
        branches: z
          .array(z.string().min(1))
          .default(['hotfix/*'])
          .describe('Head branches (of the same repository) that make a PR a hotfix'),
        paths: z
          .array(
            z.string().min(1, { message: 'an empty path pattern matches nothing' }).superRefine((text, ctx) => {
              const problem = pathPatternProblem(text);
              if (problem) ctx.addIssue({ code: 'custom', message: `invalid path pattern ${JSON.stringify(text)}: ${problem}` });
            }),
          )
          .default([])
          .describe(
            'File path patterns (* stops at /, ** crosses it, **/ also matches no folder): a PR whose changed files all match passes features freezes like a hotfix',
          ),
      })
      .strict()
      .prefault({})
      .describe('What makes a PR a hotfix'),
    overrides: z
      .object({
        approvals: z
          .number({ message: 'expected a whole number of people from 1 to 5' })
          .int({ message: 'expected a whole number of people from 1 to 5' })
          .min(1, { message: 'expected 1 to 5 people (1: the person who writes /override is enough)' })
          .max(5, { message: 'expected 1 to 5 people (at most 5)' })
          .default(1)
          .describe('How many different people with the override permission an override needs: the one who writes /override reason, then each /override approve'),
      })
      .strict()
      .prefault({})
      .describe('How overrides are given'),
    windows: z.array(window).default([]).describe('Scheduled freezes'),
    cadence: cadence.nullable().default(null).describe('A limit on deploys; null means no limit'),
    incidents: z
      .object({
        freeze: z.array(z.enum(SEVERITIES)).default(['sev1', 'sev2']).describe('Severities that freeze'),
        mode: mode.default('features'),
        recovery: z
          .object({
            mode: mode.default('features'),
            cadence: recoveryCadence
              .nullable()
              .default({ max: 2, per: '24h', min_interval: '2h' })
              .describe('The cadence from resolve until close'),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    deployments: z
      .object({
        environments: z
          .array(z.string().min(1))
          .default(['production'])
          .describe('Environments gated by the deployment protection rule'),
        when_blocked: z
          .enum(['wait', 'reject'])
          .default('wait')
          .describe('wait: approve when the gate opens; reject: reject at once'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** A config as validated, before it is compiled. */
export type ConfigSource = z.output<typeof configSource>;

function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === null) throw new Error(`invalid duration in a validated config: ${JSON.stringify(text)}`);
  return ms;
}

/** A cadence's limits with its durations in ms (what evaluating it needs). */
export function compileCadence<C extends { max: number; per: string; min_interval?: string | undefined }>(
  c: C,
): C & { perMs: number; minIntervalMs: number | null } {
  return { ...c, perMs: durationMs(c.per), minIntervalMs: c.min_interval === undefined ? null : durationMs(c.min_interval) };
}

/** Compiles a validated config (the schema's last step). */
export function compileConfig(c: ConfigSource) {
  const recovery = c.incidents.recovery;
  return {
    ...c,
    branchPatterns: c.branches.map(compilePattern) as readonly BranchPattern[],
    exempt: {
      ...c.exempt,
      branchPatterns: c.exempt.branches.map(compilePattern) as readonly BranchPattern[],
      pathPatterns: c.exempt.paths.map(compilePattern) as readonly BranchPattern[],
    },
    windows: c.windows.map((w) => ({
      ...w,
      plan: compileWindow(w) as WindowPlan,
      notifyBeforeMs: w.notify_before === undefined ? null : durationMs(w.notify_before),
    })),
    cadence: c.cadence === null ? null : compileCadence(c.cadence),
    incidents: {
      ...c.incidents,
      recovery: { ...recovery, cadence: recovery.cadence === null ? null : compileCadence(recovery.cadence) },
    },
  };
}

export const configSchema = configSource.transform(compileConfig);

export type Config = z.output<typeof configSchema>;
export type WindowConfig = Config['windows'][number];
export type CadenceConfig = NonNullable<Config['cadence']>;
export type RecoveryCadenceConfig = NonNullable<Config['incidents']['recovery']['cadence']>;

export interface ConfigProblem {
  path: string;
  message: string;
}

export const DEFAULT_CONFIG: Config = configSchema.parse({});

export type ParsedConfig = { ok: true; config: Config } | { ok: false; problems: ConfigProblem[] };

/** Validates a config object (already parsed from YAML). `null`/`undefined` means an empty file. */
export function parseConfig(raw: unknown): ParsedConfig {
  const input = raw === null || raw === undefined ? {} : raw;
  const result = configSchema.safeParse(input);
  if (result.success) return { ok: true, config: result.data };
  const problems = result.error.issues.map((issue) => ({
    path: issue.path.length ? issue.path.map(String).join('.') : '(root)',
    message: issue.message,
  }));
  return { ok: false, problems };
}
