/**
 * HTTP byte ranges (RFC 9110 §14) for downloads of stored objects of known size: which part of
 * the object a GET's `Range` (and `If-Range`) asks for. One range at a time: a request for several
 * is answered with the whole object, which the RFC allows (a server may ignore `Range`), and which
 * spares us multipart/byteranges bodies no download client needs. Fastify's dependencies carry no
 * range parser of their own we could import (`range-parser` is not installed; @fastify/send keeps
 * its parser private), hence this small strict one.
 */

/** What to send: everything (200), bytes `start`..`end` inclusive (206), or nothing (416). */
export type RangeAnswer = { kind: 'whole' } | { kind: 'part'; start: number; end: number } | { kind: 'unsatisfiable' };

const WHOLE: RangeAnswer = { kind: 'whole' };
const UNSATISFIABLE: RangeAnswer = { kind: 'unsatisfiable' };

/** `unit=set`, the unit a token (RFC 9110 §5.6.2). */
const SPECIFIER = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)=(.*)$/s;
/** `first-last`, `first-` or `-suffix`, decimal digits only (no signs, spaces or exponents). */
const RANGE_SPEC = /^(?:(\d+)-(\d*)|-(\d+))$/;

/**
 * The part of an object of `size` bytes that a `Range` header asks for. No header, a unit other
 * than `bytes` (which the RFC says to ignore) or several ranges: the whole object. A malformed
 * `bytes=` header, or one range that starts at or past the end: unsatisfiable (416). The last
 * position is clipped to the object's end; `-n` is the last n bytes (all of them when n ≥ size).
 */
export function parseByteRange(header: string | undefined, size: number): RangeAnswer {
  if (header === undefined) return WHOLE;
  const specifier = SPECIFIER.exec(header.trim());
  if (!specifier) return UNSATISFIABLE;
  if (specifier[1]!.toLowerCase() !== 'bytes') return WHOLE;
  // A list: elements separated by commas with optional spaces or tabs; empty elements are allowed and ignored.
  const specs = specifier[2]!
    .split(',')
    .map((s) => s.replace(/^[ \t]+|[ \t]+$/g, ''))
    .filter((s) => s !== '');
  const parsed = specs.map((s) => RANGE_SPEC.exec(s));
  if (parsed.length === 0 || parsed.some((m) => m === null)) return UNSATISFIABLE;
  if (parsed.length > 1) return WHOLE;
  const [, first, last, suffix] = parsed[0]!;
  if (suffix !== undefined) {
    const length = Number(suffix);
    if (length === 0) return UNSATISFIABLE;
    // An empty object has no last byte to name; its (empty) whole is what a suffix asks for.
    if (size === 0) return WHOLE;
    return { kind: 'part', start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return UNSATISFIABLE;
  if (start >= size) return UNSATISFIABLE;
  return { kind: 'part', start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}

/**
 * Whether a GET's `Range` applies given its `If-Range`: always without one; with one, only when it
 * is the object's current strong ETag, compared byte for byte (a weak tag never matches). A date, or
 * any tag of another version, means "send the whole object", as for a resource without a validator.
 */
export function rangeApplies(ifRange: string | undefined, etag: string | undefined): boolean {
  if (ifRange === undefined) return true;
  return etag !== undefined && !etag.startsWith('W/') && ifRange.trim() === etag;
}

/** The `Content-Range` of an answer: `bytes a-b/size` for a part, `bytes *\/size` for a 416. */
export function contentRange(answer: RangeAnswer, size: number): string {
  return answer.kind === 'part' ? `bytes ${answer.start}-${answer.end}/${size}` : `bytes */${size}`;
}
