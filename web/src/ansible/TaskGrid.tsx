/**
 * The task × host grid of an Ansible step: a row a task, a column a host, each cell coloured by
 * the host's result. Only the host columns in view (and a few either side) are in the DOM: at
 * 200 hosts × 10 tasks that is ~400 cells instead of 2000, so a frame of new results costs the
 * browser little layout (bench/ansible-grid.ts). The table keeps its full width (a spacer column
 * on each side), so the scroll bar and the sticky task column behave as with every column there.
 *
 * Rows are memoised: applyAnsibleEvents keeps an untouched task the same object, so a frame of
 * results re-renders the rows they landed in.
 */
import { memo, useRef } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { AnsibleStepResults, HostResult } from '../api/endpoints';

/** Column widths (styles/ansible.css): the table's fixed layout takes them from its header. */
const TASK_COLUMN_PX = 220;
const HOST_COLUMN_PX = 40;
const SHORT: Record<HostResult, string> = { ok: 'ok', changed: 'chg', failed: 'FAIL', unreachable: 'UNR', skipped: 'skip', rescued: 'resc', ignored: 'ign' };

type Task = AnsibleStepResults['tasks'][number];

export const TaskGrid = memo(function TaskGrid({ tasks, hosts }: { tasks: Task[]; hosts: string[] }) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const columns = useVirtualizer({
    horizontal: true,
    count: hosts.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => HOST_COLUMN_PX,
    paddingStart: TASK_COLUMN_PX,
    overscan: 8,
    // Before the box is measured (first render): a wide screen's worth, not nothing.
    initialRect: { width: 1600, height: 480 },
  });
  const items = columns.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items.length > 0 ? items[items.length - 1]!.index : -1;
  const shown = hosts.slice(first, last + 1);
  const left = first * HOST_COLUMN_PX;
  const right = Math.max(0, (hosts.length - last - 1) * HOST_COLUMN_PX);
  const results = tasks.reduce((n, t) => n + Object.keys(t.hosts).length, 0);
  return (
    <div ref={scrollRef} className="ansible-grid-scroll">
      <table
        className="ansible-grid"
        data-testid="ansible-grid"
        data-hosts={hosts.length}
        data-results={results}
        style={{ width: TASK_COLUMN_PX + hosts.length * HOST_COLUMN_PX }}
      >
        <GridHead hosts={shown} left={left} right={right} />
        <tbody>
          {tasks.map((task) => (
            <TaskRow key={task.id} task={task} hosts={shown} spacers={left > 0 || right > 0} />
          ))}
        </tbody>
      </table>
    </div>
  );
});

function Spacer({ width }: { width: number }) {
  return <th className="ansible-spacer" style={{ width }} aria-hidden="true" />;
}

const GridHead = memo(function GridHead({ hosts, left, right }: { hosts: string[]; left: number; right: number }) {
  const spacers = left > 0 || right > 0;
  return (
    <thead>
      <tr>
        <th scope="col">Task</th>
        {spacers && <Spacer width={left} />}
        {hosts.map((h) => (
          <th key={h} scope="col" className="ansible-host">
            {h}
          </th>
        ))}
        {spacers && <Spacer width={right} />}
      </tr>
    </thead>
  );
});

const TaskRow = memo(function TaskRow({ task, hosts, spacers }: { task: Task; hosts: string[]; spacers: boolean }) {
  return (
    <tr>
      <th scope="row" title={task.action}>
        {task.handler ? '⚑ ' : ''}
        {task.name || task.action}
      </th>
      {spacers && <td className="ansible-spacer" aria-hidden="true" />}
      {hosts.map((h) => {
        const r = task.hosts[h];
        return (
          <td
            key={h}
            className={r ? `cell-${r.status}` : 'cell-none'}
            title={r ? `${h}: ${r.status}${r.duration_ms !== null ? ` in ${r.duration_ms} ms` : ''}${r.message ? `\n${r.message}` : ''}` : `${h}: not run`}
            data-host={h}
            data-status={r?.status ?? ''}
          >
            {r ? SHORT[r.status] : ''}
          </td>
        );
      })}
      {spacers && <td className="ansible-spacer" aria-hidden="true" />}
    </tr>
  );
});
