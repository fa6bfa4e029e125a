import { z } from 'zod';
import { CountsMessageSchema, StatusMessageSchema } from './messages.ts';

/**
 * JSON Schema of the counts message, generated from the zod schema: the machine-readable list of exactly
 * what leaves a sensor. Published with the sensor's status and in the docs.
 */
export function countsMessageJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(CountsMessageSchema, { target: 'draft-2020-12', unrepresentable: 'any' }),
    title: 'Passant counts message, version 1',
  };
}

export function statusMessageJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(StatusMessageSchema, { target: 'draft-2020-12', unrepresentable: 'any' }),
    title: 'Passant status message, version 1',
  };
}
