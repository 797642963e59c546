import type { PipeTransform } from '@nestjs/common';
import { toFieldIssues } from '@conduit/contracts';
import type { z } from 'zod';
import { ApiError } from './api.error.js';

const MAX_DETAILS = 20;

/**
 * Validates one part of a request (`body`, `query`, `params`) with a contract schema and
 * returns the parsed value; a failure is a 400 whose details name each bad field.
 */
export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(
    private readonly schema: S,
    private readonly part: 'body' | 'query' | 'params' | 'header',
  ) {}

  transform(value: unknown): z.output<S> {
    const parsed = this.schema.safeParse(
      value ?? (this.part === 'query' || this.part === 'params' ? {} : undefined),
    );
    if (parsed.success) return parsed.data;
    // The first offending fields are enough to fix a request; a 100 000-point batch could have more.
    const details = toFieldIssues(parsed.error, this.part).slice(0, MAX_DETAILS);
    throw new ApiError(
      'validation_failed',
      `invalid ${this.part}: ${details.map((d) => d.field).join(', ')}`,
      details,
    );
  }
}
