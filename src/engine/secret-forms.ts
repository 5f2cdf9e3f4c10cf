/**
 * The forms in which a step may print a secret, so the masker can hide each of them: the value
 * itself, each line of a multi-line value (tools print keys a line at a time, or re-indent them),
 * URL-encoded (encodeURIComponent, and form encoding with `+` for spaces), JSON-escaped, and
 * base64 (standard and url-safe).
 *
 * Base64 is done as GitHub Actions does it: the secret may sit anywhere inside a longer text that
 * is encoded as a whole (`echo "token=$T" | base64`), so for each of the three byte alignments the
 * characters that depend only on the secret's own bits are a pattern. Those leading and trailing
 * characters that mix in bits of the neighbouring bytes are left out; they carry at most a few
 * bits of the secret.
 */

/** Values shorter than this are not masked (see masking.ts). */
export const MIN_SECRET_LENGTH = 3;

/**
 * A base64 fragment shorter than this is not masked: a handful of base64 characters occurs by
 * chance in any hash, id or encoded blob, and would shred logs while hiding almost nothing.
 */
export const MIN_BASE64_FRAGMENT = 6;

/**
 * Lines of one multi-line value masked on their own. Every pattern is searched in every chunk of
 * every step's output; a secret file of thousands of lines would slow all logs of its run down.
 * Beyond this many lines only the whole value (and its encodings) is masked.
 */
export const MAX_LINE_FORMS = 256;

/** Every distinct form of one secret value worth masking (empty when the value is too short). */
export function secretForms(secret: string): string[] {
  const forms = new Set<string>();
  if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) return [];
  forms.add(secret);
  const lines = secret.split(/\r?\n/);
  if (lines.length > 1) {
    for (const line of lines.slice(0, MAX_LINE_FORMS)) {
      const trimmed = line.trim();
      if (trimmed.length >= MIN_SECRET_LENGTH) forms.add(trimmed);
    }
  }
  forms.add(encodeURIComponent(secret));
  forms.add(new URLSearchParams({ v: secret }).toString().slice(2));
  forms.add(JSON.stringify(secret).slice(1, -1));
  for (const fragment of base64Fragments(Buffer.from(secret, 'utf8'))) forms.add(fragment);
  return [...forms];
}

/**
 * The base64 of the value alone (padded), and for each alignment of the value in a longer text the
 * stable middle part, in standard and url-safe alphabets.
 */
function base64Fragments(bytes: Buffer): string[] {
  const out = [bytes.toString('base64')];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    // Character i covers bits [6i, 6i+6); keep those that lie wholly within the secret's bits.
    const stable = encoded.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + bytes.length)) / 6));
    if (stable.length < MIN_BASE64_FRAGMENT) continue;
    out.push(stable, stable.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}
