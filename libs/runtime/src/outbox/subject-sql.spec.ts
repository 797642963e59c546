import { describe, expect, it } from 'vitest';
import { DeviceCommandTransitioned, DeviceStatusChanged } from '@conduit/contracts';
import { subjectSql } from './subject-sql.js';

describe(subjectSql.name, () => {
  it("builds the contract's subject from SQL columns", () => {
    expect(subjectSql(DeviceStatusChanged.subject, 'c.org_id', 'c.id')).toBe(
      "'device.' || c.org_id || '.' || c.id || '.status_changed'",
    );
    expect(subjectSql(DeviceCommandTransitioned.subject, 'r.org_id', 'r.device_id', 'steps.s')).toBe(
      "'device.' || r.org_id || '.' || r.device_id || '.command.' || steps.s",
    );
    expect(subjectSql((a: string) => a, 'x')).toBe('x');
  });

  it('refuses a subject that would break out of its SQL literal', () => {
    expect(() => subjectSql((a: string) => `x'.${a}`, 'c')).toThrow(/quote/);
  });
});
