import { Type } from 'typebox';
import { ERROR_STATUS } from '../../domain/errors.js';

export const ErrorBodySchema = Type.Object(
  {
    error: Type.Object({
      code: Type.Enum(Object.keys(ERROR_STATUS)),
      message: Type.String(),
      details: Type.Record(Type.String(), Type.Unknown()),
    }),
    timestamp: Type.String({ format: 'date-time' }),
    path: Type.String(),
  },
  { $id: 'ErrorBody', description: 'The unified error body' },
);

export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647 }) }, { additionalProperties: false });

export const PageQuery = {
  page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1, description: 'Page number (from 1)' }),
  page_size: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Items per page (1-100)' }),
};

export const pageOf = <T extends Parameters<typeof Type.Array>[0]>(item: T) =>
  Type.Object({
    count: Type.Integer(),
    next: Type.Union([Type.String(), Type.Null()]),
    previous: Type.Union([Type.String(), Type.Null()]),
    results: Type.Array(item),
  });

export const Nullable = <T extends Parameters<typeof Type.Array>[0]>(t: T) => Type.Union([t, Type.Null()]);

/**
 * A success response that is not JSON (a log, a badge, YAML, metrics), for the OpenAPI document:
 * its media type and the headers it carries. The handlers send text, which Fastify passes through
 * unserialized; the error responses beside it stay the unified JSON body.
 */
export const textResponse = (mediaType: string, description: string, headers: Record<string, { type: string; description: string }> = {}) => ({
  description,
  ...(Object.keys(headers).length ? { headers } : {}),
  content: { [mediaType]: { schema: { type: 'string' } } },
});

/** Standard error responses for the OpenAPI document. */
export const errorResponses = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, Type.Ref('ErrorBody')]));
