/**
 * Streaming secret masking on bytes. Every occurrence of a secret becomes `******`, including one
 * split across two writes: the masker holds back the shortest tail that could still be the start
 * of a secret (never more than longestPattern-1 bytes) until the next write or flush.
 *
 * Each secret is masked in every form a step may print it (secret-forms.ts): whole, each line of a
 * multi-line value (as GitHub Actions does, because tools often print a key one line at a time or
 * re-indent it), URL-encoded, JSON-escaped and base64 (also inside a longer encoded text).
 *
 * Secrets shorter than MIN_SECRET_LENGTH (secret-forms.ts) are ignored: masking "a" or "12" would
 * shred every log line while hiding nothing an attacker could not guess, and the pattern of masks
 * would itself reveal the value.
 *
 * The masker is on the log hot path: forms equal to one another are one pattern, and a pattern is
 * searched again only once the scan has passed its last known occurrence (not after every match).
 */
import { SECRET_MASK } from '../domain/pipeline.js';
import { secretForms } from './secret-forms.js';

const MASK = Buffer.from(SECRET_MASK);

/** The byte patterns to mask for a set of secret values (every form of each), longest first. */
export function secretPatterns(secrets: Iterable<string>): Buffer[] {
  const unique = new Set<string>();
  for (const secret of secrets) for (const form of secretForms(secret)) unique.add(form);
  return [...unique].map((s) => Buffer.from(s, 'utf8')).sort((a, b) => b.length - a.length);
}

export class SecretMasker {
  private patterns: Buffer[];
  private readonly secrets: string[];
  private held: Buffer = Buffer.alloc(0);

  constructor(secrets: Iterable<string>) {
    this.secrets = [...secrets];
    this.patterns = secretPatterns(this.secrets);
  }

  /** Masks one more value from now on (a token discovered while the step runs). */
  add(secret: string): void {
    this.secrets.push(secret);
    this.patterns = secretPatterns(this.secrets);
  }

  get hasSecrets(): boolean {
    return this.patterns.length > 0;
  }

  /** Masks what can be decided now; returns the bytes safe to emit (possibly empty). */
  write(chunk: Buffer): Buffer {
    if (this.patterns.length === 0) return chunk;
    const data = this.held.length === 0 ? chunk : Buffer.concat([this.held, chunk]);
    const { output, rest } = this.mask(data, true);
    this.held = rest;
    return output;
  }

  /** Emits whatever was held back (the stream ended, so no secret can complete any more). */
  flush(): Buffer {
    if (this.held.length === 0) return this.held;
    const { output } = this.mask(this.held, false);
    this.held = Buffer.alloc(0);
    return output;
  }

  private mask(data: Buffer, holdPartial: boolean): { output: Buffer; rest: Buffer } {
    const partials = holdPartial ? this.partialStarts(data) : [];
    const parts: Buffer[] = [];
    // Where each pattern next occurs (-1: nowhere): looked up again only once `pos` passes it.
    const found = new Array<number>(this.patterns.length).fill(-2);
    let pos = 0;
    for (;;) {
      const hold = partials.find((p) => p >= pos) ?? data.length;
      const match = this.nextMatch(data, pos, found);
      // A longer secret that may still complete at `hold` could cover this match: decide later.
      if (!match || match.start >= hold) {
        parts.push(data.subarray(pos, hold));
        // Nothing masked (the usual chunk): hand on a view of the input instead of copying it,
        // as the line limiter does; the held-back tail is copied because it outlives the chunk.
        const output = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
        return { output, rest: Buffer.from(data.subarray(hold)) };
      }
      parts.push(data.subarray(pos, match.start), MASK);
      pos = match.end;
    }
  }

  /** Leftmost, then longest, complete occurrence of any pattern at or after `from`. */
  private nextMatch(data: Buffer, from: number, found: number[]): { start: number; end: number } | null {
    let best: { start: number; end: number } | null = null;
    for (const [i, pattern] of this.patterns.entries()) {
      let start = found[i]!;
      if (start === -1) continue;
      if (start < from) found[i] = start = data.indexOf(pattern, from);
      if (start === -1) continue;
      // Patterns are longest first, so at an equal start the longer one is kept.
      if (!best || start < best.start) best = { start, end: start + pattern.length };
    }
    return best;
  }

  /** Positions p (ascending) where data[p..] is a proper prefix of some pattern. */
  private partialStarts(data: Buffer): number[] {
    const starts = new Set<number>();
    for (const pattern of this.patterns) {
      const first = pattern[0]!;
      let p = data.indexOf(first, Math.max(0, data.length - (pattern.length - 1)));
      while (p !== -1 && p < data.length) {
        const tail = data.subarray(p);
        if (tail.length < pattern.length && tail.equals(pattern.subarray(0, tail.length))) {
          starts.add(p);
          break; // the earliest start for this pattern is enough
        }
        p = data.indexOf(first, p + 1);
      }
    }
    return [...starts].sort((a, b) => a - b);
  }
}

/** Masks secrets in a complete string (messages, error texts). */
export function maskText(text: string, secrets: Iterable<string>): string {
  const masker = new SecretMasker(secrets);
  if (!masker.hasSecrets) return text;
  return Buffer.concat([masker.write(Buffer.from(text, 'utf8')), masker.flush()]).toString('utf8');
}
