import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ProvidersExperimentsRuns1764600000000 implements MigrationInterface {
  name = 'ProvidersExperimentsRuns1764600000000';

  async up(q: QueryRunner): Promise<void> {
    // No secrets: api_key_env is the NAME of an environment variable of llm-experiments.
    await q.query(`
      CREATE TABLE experiments.providers (
        org_id             text             NOT NULL,
        id                 text             NOT NULL,
        kind               text             NOT NULL CHECK (kind IN ('openai', 'local')),
        name               text             NOT NULL,
        base_url           text,
        api_key_env        text,
        default_model      text             NOT NULL,
        timeout_ms         int              NOT NULL,
        max_retries        int              NOT NULL,
        concurrency        int              NOT NULL,
        cost_per_1k_input  double precision NOT NULL,
        cost_per_1k_output double precision NOT NULL,
        created_at         timestamptz      NOT NULL DEFAULT now(),
        updated_at         timestamptz      NOT NULL DEFAULT now(),
        PRIMARY KEY (org_id, id)
      )`);
    await q.query(`
      CREATE TABLE experiments.experiments (
        org_id            text        NOT NULL,
        id                uuid        NOT NULL,
        name              text        NOT NULL,
        status            text        NOT NULL CHECK (status IN ('draft', 'running', 'paused', 'completed')),
        seed              text        NOT NULL,
        variants          jsonb       NOT NULL,
        control           text        NOT NULL,
        fallback_variant  text,
        primary_metric    jsonb       NOT NULL,
        guardrail_metrics jsonb       NOT NULL DEFAULT '[]',
        guardrails        jsonb       NOT NULL DEFAULT '{}',
        min_samples       int         NOT NULL,
        created_at        timestamptz NOT NULL DEFAULT now(),
        updated_at        timestamptz NOT NULL DEFAULT now(),
        started_at        timestamptz,
        completed_at      timestamptz,
        PRIMARY KEY (org_id, id)
      )`);
    await q.query(`CREATE INDEX experiments_org_created_idx ON experiments.experiments (org_id, created_at)`);
    // One row per run. Results aggregate by (experiment, variant); latency and cost only over
    // source = 'provider' AND NOT fallback AND error_code IS NULL.
    await q.query(`
      CREATE TABLE experiments.runs (
        id            uuid             PRIMARY KEY,
        org_id        text             NOT NULL,
        experiment_id uuid             NOT NULL,
        unit_id       text             NOT NULL,
        variant       text             NOT NULL,
        served_by     text,
        provider_id   text,
        model         text,
        source        text             CHECK (source IN ('provider', 'cache', 'coalesced')),
        fallback      boolean          NOT NULL,
        latency_ms    double precision NOT NULL,
        input_tokens  int              NOT NULL,
        output_tokens int              NOT NULL,
        cost          double precision NOT NULL,
        error_code    text,
        error_message text,
        output        text,
        created_at    timestamptz      NOT NULL DEFAULT now(),
        FOREIGN KEY (org_id, experiment_id) REFERENCES experiments.experiments (org_id, id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX runs_experiment_idx ON experiments.runs (org_id, experiment_id, variant)`);
    // The latest value per unit and metric counts (a unit is the unit of analysis).
    await q.query(`
      CREATE TABLE experiments.outcomes (
        org_id        text             NOT NULL,
        experiment_id uuid             NOT NULL,
        unit_id       text             NOT NULL,
        metric        text             NOT NULL,
        variant       text             NOT NULL,
        value         double precision NOT NULL,
        updated_at    timestamptz      NOT NULL DEFAULT now(),
        PRIMARY KEY (org_id, experiment_id, metric, unit_id),
        FOREIGN KEY (org_id, experiment_id) REFERENCES experiments.experiments (org_id, id) ON DELETE CASCADE
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE experiments.outcomes`);
    await q.query(`DROP TABLE experiments.runs`);
    await q.query(`DROP TABLE experiments.experiments`);
    await q.query(`DROP TABLE experiments.providers`);
  }
}
