import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { DeviceStatus } from '@conduit/contracts';

@Entity({ name: 'devices', schema: 'device' })
export class DeviceEntity {
  @PrimaryColumn({ name: 'org_id', type: 'text' })
  orgId!: string;

  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text', nullable: true })
  site!: string | null;

  @Column({ type: 'text' })
  type!: string;

  @Column({ type: 'text', nullable: true })
  vendor!: string | null;

  @Column({ name: 'external_id', type: 'text', nullable: true })
  externalId!: string | null;

  @Column({ type: 'text' })
  status!: DeviceStatus;

  @Column({ name: 'last_seen', type: 'timestamptz', nullable: true })
  lastSeen!: Date | null;

  @Column({ type: 'text', array: true })
  tags!: string[];

  @Column({ type: 'jsonb' })
  metadata!: Record<string, unknown>;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
