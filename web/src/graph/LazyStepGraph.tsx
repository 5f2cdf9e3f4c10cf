/** The step graph, fetched with dagre the first time one is shown (keeps both out of the first load). */
import { lazy, Suspense } from 'react';
import type { StepGraphProps } from './StepGraph';

const StepGraph = lazy(() => import('./StepGraph'));

export function LazyStepGraph(props: StepGraphProps) {
  return (
    <Suspense
      fallback={
        <p className="faint" style={{ padding: 12 }}>
          Drawing the graph…
        </p>
      }
    >
      <StepGraph {...props} />
    </Suspense>
  );
}
