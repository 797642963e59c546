import type { StreamDefinition, StreamName } from '@conduit/contracts';
import { describe, expect, it } from 'vitest';
import { provisionStreams } from './stream-provisioner.js';
import { connectTestMessaging, uniqueName } from './testing/index.js';

describe(provisionStreams.name, () => {
  it('surfaces JetStream’s own refusal when a stream cannot be created (not "stream not found")', async () => {
    await using m = await connectTestMessaging();
    const prefix = uniqueName('p');
    const stream: StreamDefinition = {
      name: uniqueName('S').toUpperCase() as StreamName,
      subjects: [`${prefix}.>`],
      description: 'stream-provisioner int-spec',
    };
    // 64 TiB of max_bytes: more than any store on this machine can reserve.
    const limits = { maxAgeHours: 1, maxBytesMb: 64 * 1024 * 1024, duplicateWindowS: 60 };
    try {
      await expect(provisionStreams(m.jsm, limits, [stream])).rejects.toThrow(
        new RegExp(`JetStream refused to create stream ${stream.name} .*insufficient`, 'i'),
      );
    } finally {
      await m.jsm.streams.delete(stream.name).catch(() => undefined);
    }
    // Within the store's means the same definition is created.
    try {
      await provisionStreams(m.jsm, { ...limits, maxBytesMb: 8 }, [stream]);
      expect((await m.jsm.streams.info(stream.name)).config.max_bytes).toBe(8 * 1024 * 1024);
    } finally {
      await m.jsm.streams.delete(stream.name).catch(() => undefined);
    }
  });
});
