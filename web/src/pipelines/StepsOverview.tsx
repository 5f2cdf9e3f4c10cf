/** Read-only list of a pipeline's steps, parallel groups bracketed together. */
import type { StepDefinition } from '../api/types';

export function StepsOverview({ steps }: { steps: StepDefinition[] }) {
  if (steps.length === 0) return <p className="faint">No steps yet.</p>;
  const segments: Array<{ group: string | null; steps: Array<{ step: StepDefinition; index: number }> }> = [];
  steps.forEach((step, index) => {
    const last = segments[segments.length - 1];
    if (step.parallel_group && last && last.group === step.parallel_group) last.steps.push({ step, index });
    else segments.push({ group: step.parallel_group || null, steps: [{ step, index }] });
  });
  return (
    <ol className="steps-overview">
      {segments.map((segment, i) => (
        <li key={i} className={segment.group ? 'parallel' : undefined}>
          {segment.group && <div className="parallel-label">parallel · {segment.group}</div>}
          {segment.steps.map(({ step, index }) => (
            <div key={index} className="steps-overview-item">
              <span className="step-num">{index + 1}</span>
              <span className="truncate">{step.name}</span>
              <span className="chip">{step.type}</span>
            </div>
          ))}
        </li>
      ))}
    </ol>
  );
}
