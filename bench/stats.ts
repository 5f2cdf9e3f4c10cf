/**
 * Statistics shared by the benchmarks (a module, not a benchmark: bench/run-all.ts skips it).
 */

/** A sorted copy, ascending. */
export function ascending(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** The p-th percentile (nearest rank, rounded down) of values already sorted ascending; NaN when there are none. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The median (mean of the middle two for an even count); NaN when there are none. */
export function median(values: readonly number[]): number {
  const s = ascending(values);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The most [start, end) intervals open at once. An end sorts before a start at the same instant,
 * so back-to-back intervals do not count as overlapping.
 */
export function maxOverlap(intervals: Iterable<readonly [start: number, end: number]>): number {
  const events: [number, number][] = [];
  for (const [start, end] of intervals) events.push([start, 1], [end, -1]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let current = 0;
  let max = 0;
  for (const [, d] of events) max = Math.max(max, (current += d));
  return max;
}

/** A small deterministic generator for the bootstrap (mulberry32), so a run's interval is reproducible. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The 2.5th and 97.5th percentiles of `stat` over 2,000 resamples (with replacement) of the rounds. */
export function bootstrap(n: number, stat: (picks: number[]) => number, seed: number): [number, number] {
  const next = random(seed);
  const values: number[] = [];
  const picks = new Array<number>(n);
  for (let r = 0; r < 2000; r++) {
    for (let i = 0; i < n; i++) picks[i] = Math.floor(next() * n);
    values.push(stat(picks));
  }
  const s = ascending(values);
  return [percentile(s, 2.5), percentile(s, 97.5)];
}
