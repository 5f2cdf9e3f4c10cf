/**
 * Live status for run lists: the gateway's all-runs feed patches rows in place; a new run the list
 * does not show yet triggers a (throttled) reload.
 */
import { useEffect, useRef } from 'react';
import { openRunSocket } from '../api/run-socket';
import { isFinalRun, type Page, type Run } from '../api/types';

export function useRunsFeed(
  data: Page<Run> | undefined,
  setData: (update: (previous: Page<Run> | undefined) => Page<Run> | undefined) => void,
  reload: () => void,
  enabled = true,
): void {
  const reloadRef = useRef(reload);
  reloadRef.current = reload;
  const idsRef = useRef(new Set<number>());
  idsRef.current = new Set((data?.results ?? []).map((r) => r.id));

  useEffect(() => {
    if (!enabled) return;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const scheduleReload = () => {
      if (timer !== null) return;
      timer = setTimeout(() => {
        timer = null;
        reloadRef.current();
      }, 1500);
    };
    const close = openRunSocket(null, {
      onMessage(message) {
        if (message.type !== 'pipeline_status_update') return;
        const update = message.data;
        if (idsRef.current.has(update.run_id)) {
          setData((page) =>
            page
              ? {
                  ...page,
                  results: page.results.map((run) =>
                    run.id === update.run_id ? { ...run, status: update.status, progress: update.progress, current_step: update.current_step } : run,
                  ),
                }
              : page,
          );
          // finished runs get their duration from the server
          if (isFinalRun(update.status)) scheduleReload();
        } else if (update.status === 'queued' || update.status === 'running') {
          scheduleReload();
        }
      },
    });
    return () => {
      close();
      if (timer !== null) clearTimeout(timer);
    };
  }, [enabled, setData]);
}
