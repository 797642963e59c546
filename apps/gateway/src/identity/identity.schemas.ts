import { orgIdSchema } from '@conduit/contracts';
import { z } from 'zod';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** `viewer` < `operator` < `admin`: a role may do what every lower role may. */
export const roleRank = (role: Role): number => ROLES.indexOf(role);

const tierSchema = z.string().regex(/^[a-z0-9_-]{1,32}$/, '1-32 of a-z 0-9 _ -');

export const createOrgBodySchema = z.strictObject({
  id: orgIdSchema,
  name: z.string().trim().min(1).max(200),
  tier: tierSchema.default('standard'),
});
export type CreateOrgBody = z.infer<typeof createOrgBodySchema>;

export const updateOrgBodySchema = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  tier: tierSchema.optional(),
});
export type UpdateOrgBody = z.infer<typeof updateOrgBodySchema>;

export const orgSchema = z.object({
  id: z.string(),
  name: z.string(),
  tier: z.string(),
  system: z.boolean(),
  created_at: z.string(),
});
export type Org = z.infer<typeof orgSchema>;

export const createUserBodySchema = z.strictObject({ email: z.email().max(320) });
export type CreateUserBody = z.infer<typeof createUserBodySchema>;

export const userSchema = z.object({
  id: z.uuid(),
  org_id: z.string(),
  email: z.string(),
  created_at: z.string(),
});
export type User = z.infer<typeof userSchema>;

export const createKeyBodySchema = z.strictObject({
  user_id: z.uuid(),
  role: z.enum(ROLES),
  name: z.string().trim().max(200).default(''),
});
export type CreateKeyBody = z.infer<typeof createKeyBodySchema>;

export const apiKeySchema = z.object({
  id: z.uuid(),
  org_id: z.string(),
  user_id: z.uuid(),
  role: z.enum(ROLES),
  name: z.string(),
  prefix: z.string(),
  created_at: z.string(),
  revoked_at: z.string().nullable(),
});
export type ApiKey = z.infer<typeof apiKeySchema>;

/** The answer to key creation: the only time the key itself is shown. */
export const createdKeySchema = apiKeySchema.extend({ key: z.string() });
export type CreatedKey = z.infer<typeof createdKeySchema>;

export const orgParamsSchema = z.object({ orgId: orgIdSchema });
export const keyParamsSchema = z.object({ orgId: orgIdSchema, keyId: z.uuid() });
