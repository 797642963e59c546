// k6 entry: `k6 run -e SCENARIO=constant -e CONDUIT_API_KEY=… k6/conduit.ts`
// (SCENARIO: constant | spike | stress | complex | simultaneous | soak; BASE_URL overrides the
// gateway; SUMMARY writes the summary JSON elsewhere than k6/results/<scenario>.json).
// The scenarios, request mixes and thresholds are data in k6/scenarios.json.
import { fail } from 'k6';
import http from 'k6/http';
import { optionsFor, type ScenarioFile } from './lib/scenarios.ts';
import { request, send, sendAll, weighted, type StepContext } from './lib/steps.ts';

const file = JSON.parse(open('./scenarios.json')) as ScenarioFile;
const name = __ENV['SCENARIO'] ?? 'constant';
const definition =
  file.scenarios[name] ?? fail(`unknown SCENARIO ${name} (one of ${Object.keys(file.scenarios).join(', ')})`);
const mix = file.mixes[definition.mix] ?? [];

export const options = optionsFor(file, name);

interface SetupData {
  readonly devices: string[];
}

const context = (devices: readonly string[]): StepContext => ({
  base: __ENV['BASE_URL'] ?? file.baseUrl,
  apiKey:
    __ENV['CONDUIT_API_KEY'] ??
    fail('CONDUIT_API_KEY is required (npm run up writes it to .conduit/dev.env)'),
  file,
  devices,
});

/** Ten devices with some telemetry to read from. */
export function setup(): SetupData {
  const ctx = context([]);
  const devices: string[] = [];
  for (let i = 0; i < 10; i++) {
    const created = send(ctx, 'register_device');
    if (created.status !== 201)
      fail(`could not register a device: ${created.status} ${String(created.body)}`);
    const id = (created.json() as { id: string }).id;
    devices.push(id);
    const r = request({ ...ctx, device: id }, 'ingest');
    http.request(r.method, r.url, r.body ?? null, r.params);
  }
  return { devices };
}

export default function (data: SetupData): void {
  const ctx = context(data.devices);
  if (definition.sequential) {
    // the complex flow: each step uses the device this iteration registered
    for (const { step } of mix) {
      const res = send(ctx, step);
      if (step === 'register_device') {
        if (res.status !== 201) return;
        ctx.device = (res.json() as { id: string }).id;
      }
    }
  } else if (definition.batch) {
    sendAll(
      ctx,
      mix.map((m) => m.step),
    );
  } else {
    send(ctx, weighted(mix));
  }
}

export function handleSummary(data: object): Record<string, string> {
  const path = __ENV['SUMMARY'] ?? `k6/results/${name}.json`;
  const summary = { scenario: name, definition, when: new Date().toISOString(), ...data };
  return { [path]: JSON.stringify(summary, null, 2), stdout: `summary written to ${path}\n` };
}
