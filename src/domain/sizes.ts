/** Sizes as people write them (`512m`, `2g`, `1.5GiB`, or bytes), in binary multiples. */
const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Bytes of a size, or null when it is not one. */
export function parseSize(size: number | string): number | null {
  if (typeof size === 'number') return Number.isSafeInteger(size) && size > 0 ? size : null;
  const match = /^([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(size.trim());
  if (!match) return null;
  const bytes = Math.floor(Number(match[1]) * UNITS[match[2]!.toLowerCase()]!);
  return bytes > 0 && Number.isSafeInteger(bytes) ? bytes : null;
}

/** A size for messages: `2 GiB`, `512 MiB`, `1.5 GiB`, `100 bytes`. */
export function formatSize(bytes: number): string {
  for (const [unit, factor] of [
    ['TiB', 1024 ** 4],
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= factor) return `${Number((bytes / factor).toFixed(1))} ${unit}`;
  }
  return `${bytes} bytes`;
}
