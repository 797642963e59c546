import compress from '@fastify/compress';
import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { constants } from 'node:zlib';

/** Responses at least this large are compressed when the client accepts it. */
export const COMPRESS_THRESHOLD_BYTES = 1024;

/**
 * Response compression: brotli or gzip (the client's `Accept-Encoding` decides, brotli first)
 * for bodies of 1 KiB and more. Brotli at quality 4: close to gzip's speed with smaller output;
 * the default (11) costs tens of milliseconds per 100 KB, too much on the hot path.
 */
export async function setupTransport(app: INestApplication): Promise<void> {
  await (app as NestFastifyApplication).register(compress, {
    threshold: COMPRESS_THRESHOLD_BYTES,
    encodings: ['br', 'gzip'],
    brotliOptions: { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } },
    zlibOptions: { level: 6 },
  });
}
