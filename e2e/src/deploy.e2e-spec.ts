import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { baseEnvSchema } from '@conduit/config';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/processes.js';
import { SERVICES, type ServiceName } from './support/stack.js';

// Offline validation of docker-compose.yml, the Dockerfile, deploy/k8s (both overlays) and the
// dashboards: no Docker engine and no cluster run here. YAML is read by python3's PyYAML, which
// Debian's docker-compose package depends on (no YAML parser is a direct dependency here).

type Json = Record<string, unknown>;
type K8sObject = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: unknown };

const PORTS: Record<ServiceName, number> = {
  gateway: 3000,
  'device-control': 3001,
  telemetry: 3002,
  analytics: 3003,
  'llm-experiments': 3004,
};
/** Variables read by Node or the image's start command rather than by the config schemas. */
const RUNTIME_VARIABLES = new Set(['SERVICE', 'NODE_OPTIONS', 'NODE_ENV', 'CONDUIT_PRESET']);

function must<T>(value: T | null | undefined, what: string): T {
  if (value === undefined || value === null) throw new Error(`${what} is missing`);
  return value;
}

function run(command: string, args: string[], input?: string): string {
  const result = spawnSync(command, args, {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp' },
  });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

// Debian's python3 first: its PyYAML (python3-yaml) comes with the docker-compose package that
// scripts/check-deploy.sh installs; another python3 on PATH (pyenv) may lack it.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

const yamlDocuments = (text: string): unknown[] =>
  JSON.parse(
    run(
      PYTHON,
      [
        '-c',
        'import sys, json, yaml; json.dump([d for d in yaml.safe_load_all(sys.stdin) if d is not None], sys.stdout)',
      ],
      text,
    ),
  ) as unknown[];

const renderOverlay = (overlay: 'dev' | 'prod') =>
  yamlDocuments(run('kubectl', ['kustomize', `deploy/k8s/overlays/${overlay}`])) as K8sObject[];

/**
 * Loads a service's config from the built dist/ (tests may not import apps) with `env` as the
 * whole environment: `{ ok, keys }` (every variable its schema reads) or `{ ok: false, error }`.
 */
function loadBuiltConfig(
  service: ServiceName,
  env: Record<string, string>,
): { ok: boolean; keys?: string[]; error?: string } {
  const module = pathToFileURL(join(ROOT, 'dist/apps', service, 'src/config', `${service}.config.js`)).href;
  const script = `
    const m = await import(${JSON.stringify(module)});
    const load = Object.entries(m).find(([k, v]) => /^load.*Config$/.test(k) && typeof v === 'function')[1];
    const definition = Object.entries(m).find(([k]) => /ConfigDefinition$/.test(k))[1];
    try {
      load(process.env);
      console.log(JSON.stringify({ ok: true, keys: Object.keys(definition.schema) }));
    } catch (error) {
      console.log(JSON.stringify({ ok: false, error: error.message }));
    }`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'], ...env },
    encoding: 'utf8',
  });
  if (result.status !== 0)
    throw new Error(`config of ${service} could not be loaded (npm run build first?):\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as {
    ok: boolean;
    keys?: string[];
    error?: string;
  };
}

function expectValidServiceEnv(service: ServiceName, env: Record<string, string>, where: string): void {
  const loaded = loadBuiltConfig(service, env);
  expect(loaded, `${where}: ${service} config`).toMatchObject({ ok: true });
  const known = new Set([...Object.keys(baseEnvSchema.shape), ...(loaded.keys ?? []), ...RUNTIME_VARIABLES]);
  expect(
    Object.keys(env).filter((k) => !known.has(k)),
    `${where}: variables of ${service} that no schema reads`,
  ).toEqual([]);
  expect(env['CONDUIT_PRESET'], where).toBe('production');
  expect(env['HTTP_PORT'], where).toBe(String(PORTS[service]));
}

/** Metric names the code registers (`name: 'conduit_…'` in apps/ and libs/). */
function registeredMetrics(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !/\.(spec|int-spec)\.ts$/.test(entry.name)) {
        for (const m of readFileSync(path, 'utf8').matchAll(/name: '((?:conduit|http_server)_[a-z0-9_]+)'/g))
          names.add(m[1] ?? '');
      }
    }
  };
  walk(join(ROOT, 'apps'));
  walk(join(ROOT, 'libs'));
  return names;
}

/** conduit_* and http_server_* metric names a PromQL text uses (histogram suffixes removed). */
const metricsIn = (promql: string): string[] =>
  [...promql.matchAll(/\b((?:conduit|http_server)_[a-z0-9_]+)/g)].map((m) =>
    (m[1] ?? '').replace(/_(bucket|count|sum)$/, ''),
  );

async function kubernetesModel(object: K8sObject): Promise<{ validate(): void }> {
  // `apps/v1/Deployment`, `networking.k8s.io/v1/NetworkPolicy`, core `v1/Service`
  const module = (await import(`kubernetes-models/${object.apiVersion}/${object.kind}`)) as Record<
    string,
    new (data: unknown) => { validate(): void }
  >;
  const Model = module[object.kind];
  if (!Model) throw new Error(`no kubernetes-models class for ${object.apiVersion} ${object.kind}`);
  return new Model(object);
}

describe('docker-compose.yml', () => {
  const compose = yamlDocuments(run('docker-compose', ['-f', 'docker-compose.yml', 'config']))[0] as {
    services: Record<string, Json>;
  };

  it('gives each of the five services an environment its config schema accepts, with no unknown variable', () => {
    for (const service of SERVICES) {
      const definition = must(compose.services[service], `compose service ${service}`);
      const env = definition['environment'] as Record<string, string>;
      expectValidServiceEnv(service, env, 'compose');
      expect(env['NATS_USER']).toBe(service);
      expect(env['SERVICE']).toBe(service);
      expect((definition['build'] as Json)['dockerfile']).toBe('Dockerfile');
    }
  });

  it('is not fooled: a broken environment is refused by the same check', () => {
    const env = {
      ...(must(compose.services['telemetry'], 'telemetry')['environment'] as Record<string, string>),
    };
    delete env['DATABASE_URL'];
    env['TELEMETRY_WRITER_CONCURRENCY'] = '99';
    const loaded = loadBuiltConfig('telemetry', env);
    expect(loaded.ok).toBe(false);
    expect(loaded.error).toMatch(/DATABASE_URL/);
    expect(loaded.error).toMatch(/TELEMETRY_WRITER_CONCURRENCY/);
  });

  it('runs NATS with the permission file and every user password, and the backing servers', () => {
    const nats = must(compose.services['nats'], 'nats');
    expect(JSON.stringify(nats['volumes'])).toContain('deploy/nats/nats-server.conf');
    const conf = readFileSync(join(ROOT, 'deploy/nats/nats-server.conf'), 'utf8');
    const referenced = [...conf.matchAll(/password: \$([A-Z_]+)/g)].map((m) => m[1] ?? '');
    expect(referenced.length).toBeGreaterThanOrEqual(SERVICES.length);
    expect(Object.keys(nats['environment'] as Json).sort()).toEqual([...referenced].sort());
    for (const service of SERVICES) {
      const env = must(compose.services[service], service)['environment'] as Record<string, string>;
      const variable = `NATS_${service.toUpperCase().replaceAll('-', '_')}_PASSWORD`;
      expect(env['NATS_PASSWORD'], service).toBe((nats['environment'] as Record<string, string>)[variable]);
    }
    for (const name of [
      'postgres',
      'pgbouncer',
      'redis',
      'jaeger',
      'prometheus',
      'grafana',
      'mosquitto',
      'migrate',
    ])
      expect(compose.services[name], name).toBeDefined();
    expect((must(compose.services['pgbouncer'], 'pgbouncer')['environment'] as Json)['POOL_MODE']).toBe(
      'transaction',
    );
    expect(
      (must(compose.services['jaeger'], 'jaeger')['environment'] as Json)['COLLECTOR_OTLP_ENABLED'],
    ).toBe('true');
    expect(JSON.stringify(must(compose.services['jaeger'], 'jaeger')['ports'])).toContain('16686');
  });

  it('has Prometheus scrape every service and the dashboards and alerts use only metrics the code registers', () => {
    const prometheus = yamlDocuments(
      readFileSync(join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8'),
    )[0] as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = prometheus.scrape_configs.flatMap((j) => j.static_configs.flatMap((s) => s.targets));
    for (const service of SERVICES) expect(targets).toContain(`${service}:${PORTS[service]}`);

    const known = registeredMetrics();
    expect(known.has('conduit_jetstream_consumer_pending_messages')).toBe(true);
    const dashboard = JSON.parse(
      readFileSync(join(ROOT, 'deploy/grafana/dashboards/conduit-overview.json'), 'utf8'),
    ) as { panels: { title: string; targets: { expr: string }[] }[] };
    const titles = dashboard.panels.map((p) => p.title.toLowerCase()).join(' | ');
    for (const topic of ['ingest', 'latency p95', 'error', 'pool', 'cache hit', 'breaker', 'lag'])
      expect(titles).toContain(topic);
    const alerts = readFileSync(join(ROOT, 'deploy/prometheus/alerts.yml'), 'utf8');
    const used = [
      ...dashboard.panels.flatMap((p) => p.targets.flatMap((t) => metricsIn(t.expr))),
      ...metricsIn(alerts),
    ];
    expect(used.length).toBeGreaterThan(10);
    expect([...new Set(used)].filter((m) => !known.has(m))).toEqual([]);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

  it('builds with npm ci + npm run build, ships production dependencies only, runs as non-root with a /health check', () => {
    expect(dockerfile).toMatch(/RUN npm ci --no-audit/);
    expect(dockerfile).toMatch(/RUN npm run build/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/HEALTHCHECK[\s\S]*\/health/);
    expect(dockerfile).toContain(
      '--import ./dist/apps/$SERVICE/src/instrument.js ./dist/apps/$SERVICE/src/main.js',
    );
    // the runtime stage takes node_modules from the production-only stage, never from the build
    expect(dockerfile).toMatch(/COPY --from=deps [^\n]*node_modules/);
    expect(dockerfile).not.toMatch(/COPY --from=build [^\n]*node_modules/);
  });
});

describe.each(['dev', 'prod'] as const)('deploy/k8s/overlays/%s', (overlay) => {
  const objects = renderOverlay(overlay);
  const ofKind = (kind: string) => objects.filter((o) => o.kind === kind);
  const named = (kind: string, name: string) => ofKind(kind).find((o) => o.metadata.name === name);

  it('validates every object against the Kubernetes schemas (kubernetes-models), KEDA objects structurally', async () => {
    expect(objects.length).toBeGreaterThan(25);
    for (const object of objects) {
      if (object.apiVersion === 'keda.sh/v1alpha1') {
        expect(object.kind).toBe('ScaledObject');
        continue;
      }
      // kustomize wraps long base64 values at 70 characters; the API server's decoder (Go's
      // base64) skips the newlines, the schema's `byte` format does not: compare like the server
      if (object.kind === 'Secret' && object['data']) {
        const data = object['data'] as Record<string, string>;
        for (const key of Object.keys(data)) data[key] = (data[key] ?? '').replace(/\s+/g, '');
      }
      const model = await kubernetesModel(object);
      expect(() => model.validate(), `${object.kind}/${object.metadata.name}`).not.toThrow();
    }
    // the validation is live: a Deployment whose replicas is a string is refused
    const broken = structuredClone(must(named('Deployment', 'gateway'), 'gateway Deployment')) as Json;
    (broken['spec'] as Json)['replicas'] = 'two';
    await expect(kubernetesModel(broken as unknown as K8sObject).then((m) => m.validate())).rejects.toThrow();
  });

  it('gives every service probes on its port, a grace period covering preStop + SHUTDOWN_GRACE_MS, requests and limits', () => {
    const config = named('ConfigMap', 'conduit-config') as unknown as { data: Record<string, string> };
    const graceMs = Number(config.data['SHUTDOWN_GRACE_MS']);
    expect(graceMs).toBeGreaterThan(0);
    for (const service of SERVICES) {
      const deployment = named('Deployment', service) as unknown as {
        spec: { template: { spec: Json & { containers: Json[] } } };
      };
      expect(deployment, service).toBeDefined();
      const pod = deployment.spec.template.spec;
      const [container] = pod.containers as [Record<string, Json>];
      const port = must(
        (container['ports'] as unknown as { name: string; containerPort: number }[])[0],
        'port',
      );
      expect(port.containerPort).toBe(PORTS[service]);
      const probe = (name: string) => (container[name] as Json)['httpGet'] as { path: string; port: string };
      expect(probe('livenessProbe')).toEqual({ path: '/health', port: port.name });
      expect(probe('readinessProbe')).toEqual({ path: '/readyz', port: port.name });
      expect(probe('startupProbe').path).toBe('/health');
      const preStop = ((container['lifecycle'] as Json)['preStop'] as { exec: { command: string[] } }).exec
        .command;
      expect(preStop[0]).toBe('sleep');
      const sleepMs = Number(preStop[1]) * 1000;
      expect(Number(pod['terminationGracePeriodSeconds']) * 1000).toBeGreaterThan(sleepMs + graceMs);
      const resources = container['resources'] as { requests: Json; limits: Json };
      for (const r of ['cpu', 'memory']) {
        expect(resources.requests[r], `${service} ${r} request`).toBeDefined();
        expect(resources.limits[r], `${service} ${r} limit`).toBeDefined();
      }
      expect((pod['securityContext'] as Json)['runAsNonRoot']).toBe(true);
      expect(named('Service', service), `${service} Service`).toBeDefined();
      expect(named('PodDisruptionBudget', service), `${service} PDB`).toBeDefined();
    }
  });

  it('autoscales each service: HPA on CPU and memory, telemetry and analytics through KEDA on the consumer-lag gauge', () => {
    for (const service of SERVICES) {
      const hpas = ofKind('HorizontalPodAutoscaler').filter(
        (h) => ((h['spec'] as Json)['scaleTargetRef'] as Json)['name'] === service,
      );
      const scaled = ofKind('ScaledObject').filter(
        (s) => ((s['spec'] as Json)['scaleTargetRef'] as Json)['name'] === service,
      );
      if (service === 'telemetry' || service === 'analytics') {
        expect(hpas, `${service}: KEDA owns its HPA`).toHaveLength(0);
        expect(scaled).toHaveLength(1);
        const triggers = (
          must(scaled[0], service)['spec'] as { triggers: { type: string; metadata: Json }[] }
        ).triggers;
        expect(triggers.map((t) => t.type).sort()).toEqual(['cpu', 'memory', 'prometheus']);
        const query = String(
          must(
            triggers.find((t) => t.type === 'prometheus'),
            'prometheus trigger',
          ).metadata['query'],
        );
        expect(metricsIn(query)).toEqual(['conduit_jetstream_consumer_pending_messages']);
        expect(registeredMetrics().has('conduit_jetstream_consumer_pending_messages')).toBe(true);
      } else {
        expect(scaled).toHaveLength(0);
        expect(hpas).toHaveLength(1);
        const metrics = (must(hpas[0], service)['spec'] as { metrics: { resource: { name: string } }[] })
          .metrics;
        expect(metrics.map((m) => m.resource.name).sort()).toEqual(['cpu', 'memory']);
      }
    }
  });

  it('exposes only the gateway outside the cluster', () => {
    for (const service of ofKind('Service')) {
      const type = (service['spec'] as Json)['type'];
      if (service.metadata.name === 'gateway') expect(['ClusterIP', 'NodePort']).toContain(type);
      else expect(type, service.metadata.name).toBe('ClusterIP');
    }
    for (const ingress of ofKind('Ingress')) {
      const backends = JSON.stringify(ingress['spec']).match(/"service":\{"name":"([^"]+)"/g) ?? [];
      expect(backends.length).toBeGreaterThan(0);
      for (const b of backends) expect(b).toContain('"gateway"');
    }
    const policies = ofKind('NetworkPolicy') as unknown as {
      metadata: { name: string };
      spec: {
        podSelector: Json;
        policyTypes: string[];
        ingress?: { from?: unknown[] }[];
        egress?: unknown[];
      };
    }[];
    const deny = must(
      policies.find((p) => p.metadata.name === 'conduit-default-deny'),
      'default deny',
    );
    expect(deny.spec.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
    expect(deny.spec.ingress ?? []).toEqual([]);
    // a rule with no `from` admits any source: only the gateway's
    const open = policies.filter((p) =>
      (p.spec.ingress ?? []).some((rule) => !rule.from || rule.from.length === 0),
    );
    expect(open.map((p) => p.spec.podSelector)).toEqual([
      { matchLabels: { 'app.kubernetes.io/name': 'gateway' } },
    ]);
    const egress = JSON.stringify(
      must(
        policies.find((p) => p.metadata.name === 'conduit-egress-platform'),
        'egress policy',
      ).spec.egress,
    );
    for (const port of [4222, 5432, 6379]) expect(egress).toContain(`"port":${port}`);
  });

  it("gives each Deployment an environment its config schema accepts (ConfigMaps and the overlay's Secret resolved)", () => {
    const configMaps = new Map(
      ofKind('ConfigMap').map((c) => [c.metadata.name, (c['data'] ?? {}) as Record<string, string>]),
    );
    const secrets = new Map(
      ofKind('Secret').map((s) => [
        s.metadata.name,
        Object.fromEntries(
          Object.entries((s['data'] ?? {}) as Record<string, string>).map(([k, v]) => [
            k,
            Buffer.from(v, 'base64').toString(),
          ]),
        ),
      ]),
    );
    // prod's Secret comes from the operator's secret store: stand-ins of the right shape
    const external: Record<string, string> = {
      DATABASE_URL: 'postgres://conduit:x@conduit-pooler-rw:5432/conduit',
      MIGRATION_DATABASE_URL: 'postgres://conduit:x@conduit-pg-rw:5432/conduit',
      GATEWAY_BOOTSTRAP_ADMIN_KEY: `cdt_${'x'.repeat(40)}`,
    };
    for (const service of SERVICES) {
      const deployment = named('Deployment', service) as unknown as {
        spec: { template: { spec: { containers: { envFrom: Json[]; env: Json[] }[] } } };
      };
      const container = must(deployment.spec.template.spec.containers[0], `${service} container`);
      const env: Record<string, string> = {};
      for (const from of container.envFrom) {
        const name = (from['configMapRef'] as { name: string }).name;
        expect(configMaps.has(name), `ConfigMap ${name}`).toBe(true);
        Object.assign(env, configMaps.get(name));
      }
      for (const variable of container.env as { name: string; value?: string; valueFrom?: Json }[]) {
        if (variable.value !== undefined) env[variable.name] = variable.value;
        const ref = variable.valueFrom?.['secretKeyRef'] as { name: string; key: string } | undefined;
        if (ref) {
          const secret = secrets.get(ref.name);
          if (overlay === 'dev')
            expect(secret?.[ref.key], `${service}: secret ${ref.name}/${ref.key}`).toBeDefined();
          env[variable.name] = secret?.[ref.key] ?? external[ref.key] ?? 'pstandin';
        }
      }
      expectValidServiceEnv(service, env, `k8s ${overlay}`);
      expect(env['NATS_USER']).toBe(service);
    }
  });
});
