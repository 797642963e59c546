import { describe, expect, it } from 'vitest';
import { rowsOf } from './rows-of.js';

describe(rowsOf.name, () => {
  it("unwraps TypeORM's [rows, affected] answer of UPDATE/DELETE and passes plain rows through", () => {
    expect(rowsOf([[{ id: 1 }], 1])).toEqual([{ id: 1 }]);
    expect(rowsOf([[], 0])).toEqual([]);
    expect(rowsOf([{ id: 1 }, { id: 2 }])).toEqual([{ id: 1 }, { id: 2 }]);
    expect(rowsOf([])).toEqual([]);
  });
});
