import { z } from 'zod';
import { defineEvent } from '../core/contract.js';
import { alertSchema, severitySchema } from './analytics.schemas.js';

// WARNING: subjects and payload fields are wire names: external consumers bind to them.

const payload = z.object({
  version: z.literal(1),
  alert: alertSchema,
  occurred_at: z.iso.datetime({ offset: true }),
});

/** `alert.<orgId>.raised`: a rule or the anomaly detector opened an alert (status `active`). */
export const AlertRaised = defineEvent({
  stream: 'ALERTS',
  type: 'alert.raised',
  version: 1,
  subject: (orgId: string) => `alert.${orgId}.raised`,
  filter: 'alert.*.raised',
  schema: payload,
});

/**
 * `alert.<orgId>.escalated`: an open alert's breach lasted long enough for a rule's escalation
 * step; `alert.severity` is the new severity, `previous_severity` the one it had.
 */
export const AlertEscalated = defineEvent({
  stream: 'ALERTS',
  type: 'alert.escalated',
  version: 1,
  subject: (orgId: string) => `alert.${orgId}.escalated`,
  filter: 'alert.*.escalated',
  schema: payload.extend({ previous_severity: severitySchema }),
});

/** `alert.<orgId>.acknowledged`: a user acknowledged an active alert (`acknowledged_by`, `_at` set). */
export const AlertAcknowledged = defineEvent({
  stream: 'ALERTS',
  type: 'alert.acknowledged',
  version: 1,
  subject: (orgId: string) => `alert.${orgId}.acknowledged`,
  filter: 'alert.*.acknowledged',
  schema: payload,
});

/** `alert.<orgId>.resolved`: resolved by a user or (`resolved_by: "auto"`) by normal points. */
export const AlertResolved = defineEvent({
  stream: 'ALERTS',
  type: 'alert.resolved',
  version: 1,
  subject: (orgId: string) => `alert.${orgId}.resolved`,
  filter: 'alert.*.resolved',
  schema: payload,
});
