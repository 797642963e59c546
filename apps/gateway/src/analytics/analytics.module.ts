import { Module } from '@nestjs/common';
import { AlertRulesController } from './alert-rules.controller.js';
import { AlertsController } from './alerts.controller.js';
import { AnalyticsController } from './analytics.controller.js';

@Module({ controllers: [AlertRulesController, AlertsController, AnalyticsController] })
export class AnalyticsModule {}
