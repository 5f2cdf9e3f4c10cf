/**
 * Request validation with Ajv. Bodies are strict: no type coercion, unknown fields are errors
 * (never silently removed). Query strings and path parameters are coerced from text.
 * Errors become `details` keyed by the field they name.
 */
import { Ajv, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import type { ErrorDetails } from '../domain/errors.js';

function makeAjv(coerce: boolean) {
  const ajv = new Ajv({ allErrors: true, coerceTypes: coerce ? 'array' : false, useDefaults: true, removeAdditional: false, strict: false });
  addFormats.default(ajv);
  ajv.addFormat('textarea', true);
  return ajv;
}

const bodyAjv = makeAjv(false);
const textAjv = makeAjv(true);

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? bodyAjv : textAjv;
  return ajv.compile(schema as object) as ReturnType<FastifySchemaCompiler<unknown>>;
};

/** `/steps/1/config/repository` → `steps[1].config.repository`. */
export function fieldPath(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  if (extra !== undefined) parts.push(extra);
  let out = '';
  for (const raw of parts) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`;
  }
  return out;
}

export function ajvErrorsToDetails(errors: ErrorObject[], context: string): ErrorDetails {
  const details: ErrorDetails = {};
  for (const e of errors) {
    let field: string;
    let message: string;
    switch (e.keyword) {
      case 'required':
        field = fieldPath(e.instancePath, String(e.params.missingProperty));
        message = 'This field is required.';
        break;
      case 'additionalProperties':
        field = fieldPath(e.instancePath, String(e.params.additionalProperty));
        message = 'Unknown field.';
        break;
      case 'enum':
        field = fieldPath(e.instancePath);
        message = `Must be one of: ${(e.params.allowedValues as unknown[]).join(', ')}.`;
        break;
      case 'type':
        field = fieldPath(e.instancePath);
        message = `Must be of type ${String(e.params.type)}.`;
        break;
      default:
        field = fieldPath(e.instancePath);
        message = `${(e.message ?? 'Invalid value').replace(/^must/, 'Must')}.`;
    }
    const key = field || (context === 'body' ? 'non_field_errors' : context);
    const list = (details[key] ??= []);
    if (!list.includes(message)) list.push(message);
  }
  return details;
}
