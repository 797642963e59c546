import { z } from 'zod';
import { HttpClient, httpErrorText, type HttpAnswer } from '@conduit/runtime';
import {
  VendorUnavailableError,
  type DeliveryResult,
  type VendorAdapter,
  type VendorAck,
  type VendorCommand,
} from './vendor.adapter.js';

const NAME = 'http-bridge';

// WARNING: these keys live in `device.sites.integrations['http-bridge']`; renaming one breaks
// every site configured with it.
const settingsSchema = z.object({
  base_url: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    // Settings hold no secrets (see VendorCommand.settings): credentials go in token_env.
    .refine((url) => {
      const parsed = URL.parse(url); // the refinement runs even when the URL check failed
      return !parsed || (parsed.username === '' && parsed.password === '');
    }, 'must not carry credentials (use token_env)')
    .refine((url) => !/[?#]/.test(url), 'must not carry a query or fragment'),
  token_env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable')
    .optional(),
  path: z
    .string()
    .startsWith('/', 'must start with /')
    .refine((p) => p.includes('{external_id}'), 'must contain {external_id}')
    .default('/lights/{external_id}/state'),
  method: z.enum(['PUT', 'POST']).default('PUT'),
});

/** The per-site settings of the HTTP bridge, after validation and defaults. */
export type HttpBridgeSettings = z.infer<typeof settingsSchema>;

const stateBodySchema = z.object({ state: z.record(z.string(), z.unknown()) });

export interface HttpBridgeAdapterOptions {
  /** Where `token_env` names are looked up; `process.env` by default. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Concurrent connections per bridge host; 32 by default. */
  readonly maxSocketsPerHost?: number;
  /** Longer response bodies fail the attempt (vendor unavailable); 1 MiB by default. */
  readonly maxResponseBytes?: number;
}

/**
 * Delivers commands to a REST bridge (a smart-lighting hub style API): one HTTP request per
 * attempt, `{ action, params, command_id }` as JSON to `<base_url><path>` with
 * `idempotency-key: <commandId>` so that the bridge can drop a retried attempt, and
 * `authorization: Bearer <token>` when the site names a `token_env` variable.
 *
 * - 2xx: `completed`/`succeeded`; the JSON body's `state` object (if any) becomes `reported`.
 * - 408, 429, 5xx, network errors, an aborted `signal`: {@link VendorUnavailableError}.
 * - Any other status (4xx, a redirect — they are not followed), invalid settings, a missing
 *   external id or token variable: `completed`/`failed` with the reason.
 *
 * Connections are kept alive in one pool per adapter (`HttpClient` of `@conduit/runtime`:
 * node:http agents, closed by {@link stop}). The token is
 * read from the environment on every attempt, never stored, logged nor put in an error.
 */
export class HttpBridgeAdapter implements VendorAdapter {
  readonly name = NAME;
  private readonly env: Readonly<Record<string, string | undefined>>;
  private readonly http: HttpClient;
  private stopped = false;

  constructor(options: HttpBridgeAdapterOptions = {}) {
    this.env = options.env ?? process.env;
    this.http = new HttpClient({
      maxSocketsPerHost: options.maxSocketsPerHost,
      maxResponseBytes: options.maxResponseBytes,
    });
  }

  /** Nothing to connect: the bridge answers each request, so there are no later acks. */
  async start(_onAck: (ack: VendorAck) => void): Promise<void> {
    this.stopped = false;
  }

  /** Closes the pooled connections; a later `deliver` throws VendorUnavailableError. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.http.close();
  }

  async deliver(command: VendorCommand, signal: AbortSignal): Promise<DeliveryResult> {
    if (!command.externalId) return failed('the device has no external_id');
    const parsed = settingsSchema.safeParse(command.settings);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(settings)'} ${i.message}`);
      return failed(`invalid ${NAME} settings: ${issues.join('; ')}`);
    }
    const settings = parsed.data;
    let token: string | undefined;
    if (settings.token_env !== undefined) {
      token = this.env[settings.token_env];
      if (!token) return failed(`token_env: environment variable ${settings.token_env} is not set`);
    }
    const path = settings.path.replaceAll('{external_id}', encodeURIComponent(command.externalId));
    const url = new URL(settings.base_url.replace(/\/+$/, '') + path);
    // For messages: no credentials can be in it (refused above), but keep it short.
    const target = `${settings.method} ${url.origin}${url.pathname}`;

    if (this.stopped) throw new VendorUnavailableError(NAME, `${NAME}: adapter stopped (${target})`);
    if (signal.aborted) throw new VendorUnavailableError(NAME, `${NAME}: aborted before sending (${target})`);

    const body = JSON.stringify({
      action: command.action,
      params: command.params,
      command_id: command.commandId,
    });
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      'idempotency-key': command.commandId,
    };
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`;

    let response: HttpAnswer;
    try {
      response = await this.http.send(url, { method: settings.method, headers, body, signal });
    } catch (error) {
      const what = signal.aborted ? 'aborted' : `failed: ${httpErrorText(error)}`;
      throw new VendorUnavailableError(NAME, redact(`${NAME}: ${target} ${what}`, token), {
        cause: error,
      });
    }

    const { status } = response;
    if (status >= 200 && status < 300) {
      return { kind: 'completed', outcome: 'succeeded', reported: reportedState(response.body) };
    }
    const excerpt = redact(response.body.slice(0, 200), token).trim();
    const answer = `${NAME} answered ${status} to ${target}${excerpt ? `: ${excerpt}` : ''}`;
    if (status === 408 || status === 429 || status >= 500) throw new VendorUnavailableError(NAME, answer);
    return failed(status >= 300 && status < 400 ? `${answer} (redirects are not followed)` : answer);
  }
}

function reportedState(body: string): Readonly<Record<string, unknown>> | undefined {
  if (!body) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    // A bridge may answer 2xx with an empty or non-JSON body: the command still succeeded.
    return undefined;
  }
  const parsed = stateBodySchema.safeParse(json);
  return parsed.success ? parsed.data.state : undefined;
}

function failed(reason: string): DeliveryResult {
  return { kind: 'completed', outcome: 'failed', reason };
}

/** Belt and braces: a bridge echoing the request must not leak the token into a reason. */
function redact(text: string, token: string | undefined): string {
  return token ? text.replaceAll(token, '[redacted]') : text;
}
