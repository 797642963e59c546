import { Module } from '@nestjs/common';
import { PartitionsService } from '../partitions/partitions.service.js';
import { PointsConsumer } from './points.consumer.js';
import { PointsRepository } from './points.repository.js';

@Module({ providers: [PointsRepository, PointsConsumer, PartitionsService] })
export class IngestModule {}
