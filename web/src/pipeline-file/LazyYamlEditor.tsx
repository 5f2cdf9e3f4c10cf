/** The YAML editor, fetched with CodeMirror the first time one is shown (keeps CodeMirror out of the first load). */
import { forwardRef, lazy, Suspense } from 'react';
import type { YamlEditorHandle, YamlEditorProps } from './YamlEditor';

const YamlEditor = lazy(() => import('./YamlEditor'));

export const LazyYamlEditor = forwardRef<YamlEditorHandle, YamlEditorProps>(function LazyYamlEditor(props, ref) {
  return (
    <Suspense fallback={<div className="yaml-editor yaml-editor-loading faint">Loading the editor…</div>}>
      <YamlEditor {...props} ref={ref} />
    </Suspense>
  );
});
