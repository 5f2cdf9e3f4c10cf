/**
 * The recap of an Ansible step, a row a host (unreachable apart from failed): only the rows in
 * view (and a few more) are in the DOM, between two spacer rows that keep the table's height, so
 * 200 hosts cost ~35 rows. Rows are memoised on the host's counts, which applyAnsibleEvents
 * copies only when they change.
 */
import { memo, useRef } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { AnsibleStepResults, HostResult } from '../api/endpoints';

const RESULTS: HostResult[] = ['ok', 'changed', 'failed', 'unreachable', 'skipped', 'rescued', 'ignored'];
/** A row's height (styles/ansible.css: .ansible-recap tbody tr). */
const ROW_PX = 24;
/** The header's height, above the first row. */
const HEAD_PX = 48;

export function RecapTable({ results, hosts }: { results: AnsibleStepResults; hosts: string[] }) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const rows = useVirtualizer({
    count: hosts.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_PX,
    paddingStart: HEAD_PX,
    overscan: 10,
    initialRect: { width: 800, height: 480 },
  });
  const items = rows.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items.length > 0 ? items[items.length - 1]!.index : -1;
  const above = first * ROW_PX;
  const below = Math.max(0, (hosts.length - last - 1) * ROW_PX);
  return (
    <div ref={scrollRef} className="ansible-recap-scroll">
      <table className="ansible-recap" data-testid="ansible-recap">
        <caption className="faint">{results.finished ? 'Recap' : 'Recap so far'}</caption>
        <RecapHead />
        <tbody>
          {above > 0 && <tr className="ansible-spacer" style={{ height: above }} aria-hidden="true" />}
          {hosts.slice(first, last + 1).map((h) => (
            <RecapRow key={h} host={h} counts={results.recap[h]} />
          ))}
          {below > 0 && <tr className="ansible-spacer" style={{ height: below }} aria-hidden="true" />}
        </tbody>
      </table>
    </div>
  );
}

const RecapHead = memo(function RecapHead() {
  return (
    <thead>
      <tr>
        <th scope="col">Host</th>
        {RESULTS.map((r) => (
          <th key={r} scope="col">
            {r}
          </th>
        ))}
      </tr>
    </thead>
  );
});

const RecapRow = memo(function RecapRow({ host, counts }: { host: string; counts: Record<HostResult, number> | undefined }) {
  return (
    <tr data-host={host}>
      <th scope="row">{host}</th>
      {RESULTS.map((r) => {
        const n = counts?.[r] ?? 0;
        return (
          <td key={r} className={n > 0 ? `cell-${r}` : undefined} data-result={r}>
            {n}
          </td>
        );
      })}
    </tr>
  );
});
