/** List state (page, filters, search) kept in the URL query so links and the back button work. */
import { useCallback, useMemo } from 'react';
import { useSearchParams } from 'react-router-dom';

export function useUrlState<K extends string>(
  keys: readonly K[],
): [Record<K, string>, (patch: Partial<Record<K, string | number | null>>, options?: { replace?: boolean }) => void] {
  const [params, setParams] = useSearchParams();
  const values = useMemo(() => {
    const out = {} as Record<K, string>;
    for (const key of keys) out[key] = params.get(key) ?? '';
    return out;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [params, keys.join(',')]);

  const update = useCallback(
    (patch: Partial<Record<K, string | number | null>>, options: { replace?: boolean } = {}) => {
      setParams(
        (previous) => {
          const next = new URLSearchParams(previous);
          for (const [key, value] of Object.entries(patch) as Array<[string, string | number | null | undefined]>) {
            if (value === null || value === undefined || value === '') next.delete(key);
            else next.set(key, String(value));
          }
          return next;
        },
        { replace: options.replace ?? false },
      );
    },
    [setParams],
  );
  return [values, update];
}

/** A positive integer from a query value, else the fallback. */
export function positiveInt(value: string, fallback: number): number {
  return /^\d+$/.test(value) && Number(value) > 0 ? Number(value) : fallback;
}
