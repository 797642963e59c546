import type { SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';

/**
 * The OpenAPI schema of a contract schema, so that /docs shows exactly what is validated
 * (one schema language for validation, types and docs).
 */
export function openApiSchema(schema: z.ZodType): SchemaObject {
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return json as SchemaObject;
}
