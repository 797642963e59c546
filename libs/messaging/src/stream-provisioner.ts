import {
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { STREAMS, type StreamDefinition } from '@conduit/contracts';
import type { MessagingOptions } from './messaging.options.js';

/** How much longer the DLQ keeps messages than the other streams: operators need time to look. */
const DLQ_AGE_FACTOR = 4;

/** The stream config a definition gets under the configured limits. */
export function streamConfig(
  def: StreamDefinition,
  limits: MessagingOptions['streams'],
): Partial<StreamConfig> {
  const ageHours = def.name === 'DLQ' ? limits.maxAgeHours * DLQ_AGE_FACTOR : limits.maxAgeHours;
  return {
    name: def.name,
    subjects: [...def.subjects],
    description: def.description,
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(ageHours * 3_600_000),
    max_bytes: limits.maxBytesMb * 1024 * 1024,
    duplicate_window: nanos(limits.duplicateWindowS * 1000),
    num_replicas: 1,
  };
}

/**
 * Creates each stream or brings its limits and subjects up to date. Safe to run from every
 * replica at once: a concurrent create that loses the race falls back to an update.
 */
export async function provisionStreams(
  jsm: JetStreamManager,
  limits: MessagingOptions['streams'],
  definitions: readonly StreamDefinition[] = Object.values(STREAMS),
): Promise<void> {
  for (const def of definitions) {
    const config = streamConfig(def, limits);
    const exists = await jsm.streams.info(def.name).then(
      () => true,
      () => false,
    );
    if (!exists) {
      try {
        await jsm.streams.add({ ...config, name: def.name });
        continue;
      } catch (error) {
        // Created concurrently by another replica: update below. Any other refusal (most often
        // "insufficient storage resources": max_bytes is reserved against the server's store)
        // must surface as itself, not as the update's "stream not found".
        const createdMeanwhile = await jsm.streams.info(def.name).then(
          () => true,
          () => false,
        );
        if (!createdMeanwhile) {
          throw new Error(
            `JetStream refused to create stream ${def.name} (max_bytes ${limits.maxBytesMb} MiB): ${(error as Error).message}`,
            { cause: error },
          );
        }
      }
    }
    const { name: _name, storage: _storage, retention: _retention, ...mutable } = config;
    await jsm.streams.update(def.name, mutable);
  }
}
