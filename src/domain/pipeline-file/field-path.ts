/** Field paths as the API names them (`steps[2].config.repository`), and as segments to walk a document. */
export type Segment = string | number;

export function formatPath(segments: readonly Segment[]): string {
  let out = '';
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : out === '' ? s : `.${s}`;
  return out;
}

/** The inverse of formatPath for the paths our validators write (keys without dots or brackets). */
export function parsePath(path: string): Segment[] {
  const out: Segment[] = [];
  for (const m of path.matchAll(/\[(\d+)\]|\.?([^.[\]]+)/g)) out.push(m[1] !== undefined ? Number(m[1]) : m[2]!);
  return out;
}

/** A JSON Pointer (Ajv's `instancePath`) as segments; array indexes become numbers. */
export function pointerToSegments(pointer: string, value: unknown): Segment[] {
  const out: Segment[] = [];
  let at: unknown = value;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const segment: Segment = Array.isArray(at) && /^\d+$/.test(key) ? Number(key) : key;
    out.push(segment);
    at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[String(segment)] : undefined;
  }
  return out;
}
