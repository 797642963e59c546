import { z } from 'zod';
import { defineRequest } from '../core/contract.js';
import { orgIdSchema } from '../device/device.schemas.js';
import { bucketRowSchema } from '../telemetry/telemetry.schemas.js';
import { bucketSourceSchema } from '../telemetry/telemetry.requests.js';
import {
  alertRuleSchema,
  alertSchema,
  analyticsIdSchema,
  analyticsSummarySchema,
  anomaliesQuerySchema,
  anomalySchema,
  capacityBodySchema,
  capacityEstimateSchema,
  createAlertRuleBodySchema,
  listAlertsQuerySchema,
  rollupsQuerySchema,
  summaryQuerySchema,
  updateAlertRuleBodySchema,
} from './analytics.schemas.js';

const QUEUE = 'analytics';

// WARNING: subjects are wire names; gateway and analytics replicas of different versions must
// agree on them during a rolling deploy.

/** Who acts on an alert (the gateway passes the caller's user id). */
const actor = z.string().min(1).max(128);

export const AnalyticsRequests = {
  createRule: defineRequest({
    subject: 'svc.analytics.rules.create',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, rule: createAlertRuleBodySchema }),
    response: alertRuleSchema,
  }),
  listRules: defineRequest({
    subject: 'svc.analytics.rules.list',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema }),
    response: z.object({ data: z.array(alertRuleSchema) }),
  }),
  getRule: defineRequest({
    subject: 'svc.analytics.rules.get',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, id: analyticsIdSchema }),
    response: alertRuleSchema,
  }),
  updateRule: defineRequest({
    subject: 'svc.analytics.rules.update',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, id: analyticsIdSchema, changes: updateAlertRuleBodySchema }),
    response: alertRuleSchema,
  }),
  deleteRule: defineRequest({
    subject: 'svc.analytics.rules.delete',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, id: analyticsIdSchema }),
    response: z.object({ deleted: z.literal(true) }),
  }),
  listAlerts: defineRequest({
    subject: 'svc.analytics.alerts.list',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, query: listAlertsQuerySchema }),
    response: z.object({ data: z.array(alertSchema) }),
  }),
  acknowledgeAlert: defineRequest({
    subject: 'svc.analytics.alerts.acknowledge',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, id: analyticsIdSchema, by: actor }),
    response: alertSchema,
  }),
  resolveAlert: defineRequest({
    subject: 'svc.analytics.alerts.resolve',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, id: analyticsIdSchema, by: actor }),
    response: alertSchema,
  }),
  anomalies: defineRequest({
    subject: 'svc.analytics.anomalies',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, query: anomaliesQuerySchema }),
    response: z.object({ data: z.array(anomalySchema) }),
  }),
  summary: defineRequest({
    subject: 'svc.analytics.summary',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, query: summaryQuerySchema }),
    response: analyticsSummarySchema,
  }),
  rollups: defineRequest({
    subject: 'svc.analytics.rollups',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, query: rollupsQuerySchema }),
    response: z.object({ data: z.array(bucketRowSchema), source: bucketSourceSchema }),
  }),
  capacity: defineRequest({
    subject: 'svc.analytics.capacity',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, input: capacityBodySchema }),
    response: capacityEstimateSchema,
  }),
} as const;
