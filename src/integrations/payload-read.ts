/**
 * Typed reads from an untrusted JSON payload. Webhook bodies come from the network: every field
 * may be missing or of another type, so normalisers read through these and never index blindly.
 */
export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function objectAt(obj: JsonObject, key: string): JsonObject | undefined {
  const value = obj[key];
  return isObject(value) ? value : undefined;
}

export function stringAt(obj: JsonObject | undefined, key: string): string | undefined {
  const value = obj?.[key];
  return typeof value === 'string' ? value : undefined;
}

/** A non-empty string, or undefined. */
export function textAt(obj: JsonObject | undefined, key: string): string | undefined {
  const value = stringAt(obj, key);
  return value !== undefined && value.length > 0 ? value : undefined;
}

export function integerAt(obj: JsonObject | undefined, key: string): number | undefined {
  const value = obj?.[key];
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
}

/** The distinct non-empty strings found at `keys` of each object, in order. */
export function collectStrings(objects: Array<JsonObject | undefined>, keys: readonly string[]): string[] {
  const out: string[] = [];
  for (const obj of objects) {
    for (const key of keys) {
      const value = textAt(obj, key);
      if (value !== undefined && !out.includes(value)) out.push(value);
    }
  }
  return out;
}

/** The first line of a commit message or title, trimmed and capped for display. */
export function firstLine(text: string | undefined): string | undefined {
  const line = text?.split('\n', 1)[0]?.trim();
  return line ? line.slice(0, 200) : undefined;
}
