/**
 * One error vocabulary: every code the aggregator can answer with is in API_ERROR_CODES (@passant/shared). Codes
 * passed to HttpError are checked by the type checker; the codes named in the route table's query schemas (zod
 * meta, which the type checker cannot see) are checked here, and so is the documented problem schema, which
 * refuses a code outside the list.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { API_ERROR_CODES, ProblemSchema } from '@passant/shared/api-schemas';
import { ROUTE_TABLE } from '../../src/http/routes/index.ts';
import type { ParamMeta } from '../../src/http/params.ts';

describe('the API error codes', () => {
  it('every error code of a query parameter in the route table is in the shared list', () => {
    const named: string[] = [];
    for (const spec of ROUTE_TABLE) {
      if (Array.isArray(spec.query) || !(spec.query instanceof z.ZodObject)) continue;
      for (const field of Object.values(spec.query.shape as Record<string, z.ZodType>)) {
        const code = ((field.meta() ?? {}) as ParamMeta).errorCode;
        if (code !== undefined) named.push(code);
      }
    }
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((c) => !(API_ERROR_CODES as readonly string[]).includes(c))).toEqual([]);
  });

  it('a problem with a code outside the list does not pass the documented schema', () => {
    const problem = { type: 'about:blank', title: 'Bad Request', status: 400, detail: 'x' };
    expect(ProblemSchema.safeParse({ ...problem, code: 'invalid_step' }).success).toBe(true);
    expect(ProblemSchema.safeParse({ ...problem, code: 'made_up_code' }).success).toBe(false);
  });
});
