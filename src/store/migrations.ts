/**
 * Numbered, append-only migrations. Never edit one that has shipped: add the next number.
 * Account and repository names are stored lower-cased (GitHub treats them case-insensitively);
 * an account-wide scope is stored with repo = ''.
 * These are SQLite's; PostgreSQL's (src/store/postgres/migrations.ts) carry the same numbers.
 */
export const MIGRATIONS: readonly { id: number; name: string; sql: string }[] = [
  {
    id: 1,
    name: 'initial state',
    sql: `
      CREATE TABLE deliveries (
        id TEXT PRIMARY KEY,
        event TEXT NOT NULL,
        received_at INTEGER NOT NULL
      );
      CREATE TABLE installations (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        account_type TEXT NOT NULL DEFAULT 'Organization',
        suspended INTEGER NOT NULL DEFAULT 0,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX installations_by_account ON installations(account);

      CREATE TABLE repos (
        account TEXT NOT NULL,
        repo TEXT NOT NULL,
        installation_id INTEGER NOT NULL,
        full_name TEXT NOT NULL,
        default_branch TEXT,
        last_valid_config TEXT,
        required_checked_at INTEGER,
        required_state TEXT,
        PRIMARY KEY (account, repo)
      ) WITHOUT ROWID;
      CREATE INDEX repos_by_installation ON repos(installation_id);

      CREATE TABLE incidents (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL,
        repo TEXT NOT NULL DEFAULT '',
        severity TEXT NOT NULL,
        title TEXT NOT NULL,
        phase TEXT NOT NULL CHECK (phase IN ('open', 'resolved', 'closed')),
        opened_at INTEGER NOT NULL,
        opened_by TEXT NOT NULL,
        resolved_at INTEGER,
        closed_at INTEGER,
        source TEXT NOT NULL
      );
      CREATE INDEX incidents_by_account_phase ON incidents(account, phase);

      CREATE TABLE freezes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL,
        repo TEXT NOT NULL DEFAULT '',
        mode TEXT NOT NULL CHECK (mode IN ('all', 'features')),
        reason TEXT NOT NULL DEFAULT '',
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        until INTEGER,
        ended_at INTEGER,
        ended_by TEXT,
        source TEXT NOT NULL
      );
      -- active freezes of an account: ended_at IS NULL
      CREATE INDEX freezes_active ON freezes(account, ended_at, repo);
      CREATE INDEX freezes_timed ON freezes(until) WHERE ended_at IS NULL AND until IS NOT NULL;

      CREATE TABLE window_suppressions (
        account TEXT NOT NULL,
        repo TEXT NOT NULL DEFAULT '',
        window TEXT NOT NULL,
        occurrence_start INTEGER NOT NULL,
        occurrence_end INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (account, repo, window, occurrence_start)
      ) WITHOUT ROWID;
      CREATE INDEX window_suppressions_live ON window_suppressions(account, occurrence_end);

      CREATE TABLE overrides (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL,
        repo TEXT NOT NULL,
        number INTEGER NOT NULL,
        sha TEXT NOT NULL,
        created_by TEXT NOT NULL,
        reason TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        ended_at INTEGER
      );
      CREATE INDEX overrides_by_pr ON overrides(account, repo, number, ended_at);
      CREATE INDEX overrides_by_sha ON overrides(account, repo, sha);

      -- everything counted by a cadence: merges (environment '') and successful deployments
      CREATE TABLE deploys (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        dedupe_key TEXT NOT NULL UNIQUE,
        account TEXT NOT NULL,
        repo TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('merge', 'deployment')),
        environment TEXT NOT NULL DEFAULT '',
        sha TEXT,
        pr_number INTEGER,
        title TEXT,
        actor TEXT,
        at INTEGER NOT NULL,
        exemption TEXT,
        -- an approved deployment that has not reported success yet: counted, so approvals never
        -- exceed the free slots; settled by its success status, dropped by its failure
        provisional INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX deploys_by_repo_time ON deploys(account, repo, kind, environment, at);
      CREATE INDEX deploys_by_account_time ON deploys(account, at);

      -- what was last posted on each head SHA: read before write
      CREATE TABLE posted (
        account TEXT NOT NULL,
        repo TEXT NOT NULL,
        sha TEXT NOT NULL,
        decision_key TEXT NOT NULL,
        conclusion TEXT NOT NULL,
        title TEXT NOT NULL,
        blocked_until INTEGER,
        next_change_at INTEGER,
        posted_at INTEGER NOT NULL,
        PRIMARY KEY (account, repo, sha)
      ) WITHOUT ROWID;
      CREATE INDEX posted_next_change ON posted(next_change_at) WHERE next_change_at IS NOT NULL;

      -- open pull requests as last seen (webhooks and listings)
      CREATE TABLE pulls (
        account TEXT NOT NULL,
        repo TEXT NOT NULL,
        number INTEGER NOT NULL,
        installation_id INTEGER NOT NULL,
        head_sha TEXT NOT NULL,
        head_ref TEXT NOT NULL,
        base_ref TEXT NOT NULL,
        head_in_repo INTEGER NOT NULL,
        draft INTEGER NOT NULL,
        labels TEXT NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (account, repo, number)
      ) WITHOUT ROWID;
      CREATE INDEX pulls_by_sha ON pulls(account, repo, head_sha);
      CREATE INDEX pulls_open_by_account ON pulls(state, account, updated_at);

      -- who added an exempt label, and whether they held exempt.labeled_by
      CREATE TABLE label_grants (
        account TEXT NOT NULL,
        repo TEXT NOT NULL,
        number INTEGER NOT NULL,
        label TEXT NOT NULL,
        actor TEXT,
        authorized INTEGER,
        checked_at INTEGER NOT NULL,
        PRIMARY KEY (account, repo, number, label)
      ) WITHOUT ROWID;

      CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        account TEXT NOT NULL,
        repo TEXT NOT NULL DEFAULT '',
        actor TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('command', 'api', 'schedule', 'webhook')),
        action TEXT NOT NULL,
        target TEXT NOT NULL DEFAULT '',
        reason TEXT NOT NULL DEFAULT '',
        delivery_id TEXT,
        incident_id INTEGER,
        details TEXT
      );
      CREATE INDEX audit_by_account ON audit(account, id);
      CREATE INDEX audit_by_account_time ON audit(account, at);
      CREATE INDEX audit_by_incident ON audit(incident_id, id) WHERE incident_id IS NOT NULL;

      -- each command comment runs once, however often it is delivered
      CREATE TABLE command_comments (
        comment_id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        received_at INTEGER NOT NULL
      );

      -- work owed after a committed state change (replies, fan-outs), retried until done
      CREATE TABLE jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        run_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        finished_at INTEGER,
        last_error TEXT
      );
      CREATE INDEX jobs_due ON jobs(state, run_at);

      -- deployment protection rule requests waiting for the gate to open
      CREATE TABLE held_deployments (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL,
        repo TEXT NOT NULL,
        installation_id INTEGER NOT NULL,
        environment TEXT NOT NULL,
        callback_url TEXT NOT NULL,
        deployment_id INTEGER,
        sha TEXT NOT NULL,
        ref TEXT,
        pr_numbers TEXT NOT NULL DEFAULT '[]',
        requested_at INTEGER NOT NULL,
        state TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'approved', 'rejected')),
        decided_at INTEGER,
        comment TEXT
      );
      -- one workflow run (one callback URL) may deploy to several environments, and a re-run asks again
      CREATE UNIQUE INDEX held_request ON held_deployments(callback_url, environment, deployment_id);
      CREATE INDEX held_waiting ON held_deployments(state, account, repo, requested_at);

      CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `,
  },
  {
    id: 2,
    name: 'incident tools and all-account reads',
    sql: `
      -- incidents opened by an incident tool, by the tool's own incident id, so a later
      -- "resolved" finds ours and a repeated "triggered" opens nothing new
      CREATE TABLE external_incidents (
        source TEXT NOT NULL CHECK (source IN ('pagerduty', 'statuspage')),
        external_id TEXT NOT NULL,
        incident_id INTEGER NOT NULL REFERENCES incidents(id),
        created_at INTEGER NOT NULL,
        PRIMARY KEY (source, external_id)
      ) WITHOUT ROWID;
      CREATE INDEX external_incidents_by_incident ON external_incidents(incident_id);

      -- the dashboard and the metrics gauges read the active rows of every account
      CREATE INDEX incidents_active ON incidents(phase) WHERE phase IN ('open', 'resolved');
      CREATE INDEX freezes_open ON freezes(until) WHERE ended_at IS NULL;
    `,
  },
  {
    id: 3,
    name: 'job leases and claimed moments',
    sql: `
      -- a job is held by one replica until its lease runs out (src/store/repos/jobs.ts); the
      -- synchronous store of one process never sets them
      ALTER TABLE jobs ADD COLUMN locked_by TEXT;
      ALTER TABLE jobs ADD COLUMN locked_until INTEGER;

      -- a moment of work (a time boundary) done by one replica: the first to insert its key
      CREATE TABLE claims (
        key TEXT PRIMARY KEY,
        claimed_by TEXT NOT NULL,
        claimed_at INTEGER NOT NULL
      );
      CREATE INDEX claims_by_time ON claims(claimed_at);
    `,
  },
  {
    id: 4,
    name: 'more incident tools',
    sql: `
      -- incident.io, Rootly and the generic signed webhook link their incidents too: the source
      -- CHECK is widened (SQLite cannot alter a CHECK, so the table is rebuilt; nothing refers to it)
      CREATE TABLE external_incidents_new (
        source TEXT NOT NULL CHECK (source IN ('pagerduty', 'statuspage', 'incident-io', 'rootly', 'generic')),
        external_id TEXT NOT NULL,
        incident_id INTEGER NOT NULL REFERENCES incidents(id),
        created_at INTEGER NOT NULL,
        PRIMARY KEY (source, external_id)
      ) WITHOUT ROWID;
      INSERT INTO external_incidents_new (source, external_id, incident_id, created_at)
        SELECT source, external_id, incident_id, created_at FROM external_incidents;
      DROP TABLE external_incidents;
      ALTER TABLE external_incidents_new RENAME TO external_incidents;
      CREATE INDEX external_incidents_by_incident ON external_incidents(incident_id);
    `,
  },
  {
    id: 6,
    name: 'conditional reads',
    sql: `
      -- what a GitHub listing last answered, with its ETag (src/store/repos/conditional-reads.ts)
      CREATE TABLE conditional_reads (
        key TEXT PRIMARY KEY,
        etag TEXT NOT NULL,
        body TEXT NOT NULL,
        seen_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    id: 7,
    name: 'dashboard sessions',
    sql: `
      -- the dashboard's signed-in people (src/store/repos/sessions.ts): a session is found by the
      -- SHA-256 of its cookie (the cookie itself is never stored), so signing out (deleting the row)
      -- ends it for every copy of the cookie, on every replica
      CREATE TABLE dashboard_sessions (
        id_hash TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('github', 'token')),
        login TEXT NOT NULL,
        csrf TEXT NOT NULL,
        token_tag TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX dashboard_sessions_by_expiry ON dashboard_sessions(expires_at);

      -- the OAuth state of a sign-in under way: single-use, bound to the browser that asked (the
      -- SHA-256 of its short-lived cookie)
      CREATE TABLE dashboard_oauth_states (
        state_hash TEXT PRIMARY KEY,
        browser_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX dashboard_oauth_states_by_expiry ON dashboard_oauth_states(expires_at);

      -- the audit's source CHECK gains 'dashboard' (SQLite cannot alter a CHECK: the table is
      -- rebuilt with its ids, which AUTOINCREMENT continues after; nothing refers to it)
      CREATE TABLE audit_new (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        account TEXT NOT NULL,
        repo TEXT NOT NULL DEFAULT '',
        actor TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('command', 'api', 'schedule', 'webhook', 'dashboard')),
        action TEXT NOT NULL,
        target TEXT NOT NULL DEFAULT '',
        reason TEXT NOT NULL DEFAULT '',
        delivery_id TEXT,
        incident_id INTEGER,
        details TEXT
      );
      INSERT INTO audit_new (id, at, account, repo, actor, source, action, target, reason, delivery_id, incident_id, details)
        SELECT id, at, account, repo, actor, source, action, target, reason, delivery_id, incident_id, details FROM audit;
      DROP TABLE audit;
      ALTER TABLE audit_new RENAME TO audit;
      CREATE INDEX audit_by_account ON audit(account, id);
      CREATE INDEX audit_by_account_time ON audit(account, at);
      CREATE INDEX audit_by_incident ON audit(incident_id, id) WHERE incident_id IS NOT NULL;
    `,
  },
  {
    id: 8,
    name: 'exempt paths and overrides with approvals',
    sql: `
      -- overrides.approvals: how many different people an override needed when it was started
      -- (1: in force at once, as before), and who approved it (/override approve)
      ALTER TABLE overrides ADD COLUMN approvals_needed INTEGER NOT NULL DEFAULT 1;
      CREATE TABLE override_approvals (
        override_id INTEGER NOT NULL REFERENCES overrides(id),
        login TEXT NOT NULL,
        approved_at INTEGER NOT NULL,
        PRIMARY KEY (override_id, login)
      ) WITHOUT ROWID;

      -- exempt.paths: a pull request's changed files, read once per head commit
      -- (files: JSON [[path, previous path or null], ...]; capped: the list stopped at GitHub's cap)
      CREATE TABLE pull_files (
        account TEXT NOT NULL,
        repo TEXT NOT NULL,
        number INTEGER NOT NULL,
        sha TEXT NOT NULL,
        changed_files INTEGER,
        capped INTEGER NOT NULL,
        files TEXT NOT NULL,
        fetched_at INTEGER NOT NULL,
        PRIMARY KEY (account, repo, number, sha)
      ) WITHOUT ROWID;
      CREATE INDEX pull_files_by_time ON pull_files(fetched_at);
    `,
  },
  {
    id: 9,
    name: 'review verdicts per head commit',
    sql: `
      -- merge-ready first (SPEC 12): whether an open PR is approved, read from its reviews once per
      -- head commit (and again when the PR was updated since), shared by every replica
      CREATE TABLE pull_reviews (
        account TEXT NOT NULL,
        repo TEXT NOT NULL,
        number INTEGER NOT NULL,
        head_sha TEXT NOT NULL,
        pull_updated_at INTEGER NOT NULL,
        approved INTEGER NOT NULL,
        read_at INTEGER NOT NULL,
        PRIMARY KEY (account, repo, number)
      ) WITHOUT ROWID;
    `,
  },
  {
    id: 10,
    name: 'window notices',
    sql: `
      -- windows[].notify_before: the notice of one occurrence of a window, claimed once across
      -- restarts and replicas (src/store/repos/window-notices.ts)
      CREATE TABLE window_notices (
        account TEXT NOT NULL,
        window_key TEXT NOT NULL,
        occurrence_start INTEGER NOT NULL,
        window_name TEXT NOT NULL,
        claimed_by TEXT NOT NULL,
        claimed_at INTEGER NOT NULL,
        PRIMARY KEY (account, window_key, occurrence_start)
      ) WITHOUT ROWID;
      CREATE INDEX window_notices_by_start ON window_notices(occurrence_start);
    `,
  },
  {
    id: 11,
    name: 'conditional reads pruned',
    sql: `
      -- the stored listings not answered anew for 30 days are pruned (src/store/repos/conditional-reads.ts)
      CREATE INDEX conditional_reads_by_seen ON conditional_reads(seen_at);
    `,
  },
];
