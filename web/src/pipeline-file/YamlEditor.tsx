/**
 * A YAML editor (CodeMirror 6): highlighting, line numbers, undo, and the problems `lint` reports
 * underlined in place with a gutter marker. Loaded on demand through LazyYamlEditor; colours come
 * from the app's CSS variables, so it follows the light and dark themes without reconfiguring.
 */
import { forwardRef, useEffect, useImperativeHandle, useRef } from 'react';
import { EditorState } from '@codemirror/state';
import { EditorView, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers, drawSelection } from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { HighlightStyle, indentOnInput, indentUnit, syntaxHighlighting, bracketMatching } from '@codemirror/language';
import { yaml } from '@codemirror/lang-yaml';
import { linter, lintGutter, type Diagnostic } from '@codemirror/lint';
import { tags } from '@lezer/highlight';
import type { PipelineFileError } from '../api/types';
import { toDiagnostics } from './lint-diagnostics';

export interface YamlEditorHandle {
  /** Moves the cursor to a 1-based line and column and focuses the editor. */
  goTo(line: number, column: number): void;
}

export interface YamlEditorProps {
  initialValue: string;
  onChange?: (text: string) => void;
  /** Checks the text (debounced by `lintDelayMs` after the last change); its problems are shown inline. */
  lint: (text: string) => Promise<{ errors: PipelineFileError[]; warnings?: PipelineFileError[] }>;
  lintDelayMs?: number;
  ariaLabel: string;
}

export const theme = EditorView.theme({
  '&': { color: 'var(--text)', backgroundColor: 'var(--surface)', fontSize: '13px', height: '100%' },
  '.cm-scroller': { fontFamily: 'var(--font-mono)', lineHeight: '1.55' },
  '.cm-content': { caretColor: 'var(--text)' },
  '.cm-cursor, .cm-dropCursor': { borderLeftColor: 'var(--text)' },
  '&.cm-focused': { outline: 'none' },
  '&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, ::selection': {
    backgroundColor: 'var(--accent-soft)',
  },
  '.cm-gutters': { backgroundColor: 'var(--surface-2)', color: 'var(--text-faint)', borderRight: '1px solid var(--border)' },
  '.cm-activeLine': { backgroundColor: 'color-mix(in srgb, var(--surface-2) 60%, transparent)' },
  '.cm-activeLineGutter': { backgroundColor: 'var(--surface-3)', color: 'var(--text)' },
  '.cm-tooltip': { backgroundColor: 'var(--surface)', color: 'var(--text)', border: '1px solid var(--border)', borderRadius: '6px' },
  '.cm-diagnostic-error': { borderLeftColor: 'var(--danger)' },
  '.cm-diagnostic-warning': { borderLeftColor: 'var(--warning)' },
  '.cm-lintRange-warning': {
    backgroundImage: 'none',
    textDecoration: 'underline wavy var(--warning)',
    textDecorationSkipInk: 'none',
    textUnderlineOffset: '3px',
  },
  '.cm-lintRange-error': {
    backgroundImage: 'none',
    textDecoration: 'underline wavy var(--danger)',
    textDecorationSkipInk: 'none',
    textUnderlineOffset: '3px',
  },
});

export const highlight = HighlightStyle.define([
  { tag: [tags.propertyName, tags.definition(tags.propertyName)], color: 'var(--ansi-4)' },
  { tag: [tags.string, tags.special(tags.string)], color: 'var(--ansi-2)' },
  { tag: [tags.number, tags.bool, tags.null, tags.atom], color: 'var(--ansi-5)' },
  { tag: tags.keyword, color: 'var(--ansi-5)' },
  { tag: [tags.comment, tags.lineComment], color: 'var(--text-faint)', fontStyle: 'italic' },
  { tag: [tags.punctuation, tags.separator, tags.squareBracket, tags.brace], color: 'var(--text-muted)' },
  { tag: [tags.labelName, tags.typeName, tags.meta], color: 'var(--ansi-6)' },
  { tag: tags.invalid, color: 'var(--danger)' },
]);

const YamlEditor = forwardRef<YamlEditorHandle, YamlEditorProps>(function YamlEditor({ initialValue, onChange, lint, lintDelayMs = 400, ariaLabel }, ref) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  // the latest callbacks, read by the editor's extensions (made once)
  const callbacks = useRef({ onChange, lint });
  callbacks.current = { onChange, lint };

  useEffect(() => {
    const source = async (v: EditorView): Promise<Diagnostic[]> => {
      const doc = v.state.doc;
      const { errors, warnings = [] } = await callbacks.current.lint(doc.toString());
      // CodeMirror drops the answer itself when the text changed meanwhile
      return [...toDiagnostics(errors, doc), ...toDiagnostics(warnings, doc, 'warning')];
    };
    const created = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: initialValue,
        extensions: [
          lineNumbers(),
          highlightActiveLineGutter(),
          highlightActiveLine(),
          drawSelection(),
          history(),
          indentOnInput(),
          bracketMatching(),
          indentUnit.of('  '),
          EditorState.tabSize.of(2),
          keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
          yaml(),
          syntaxHighlighting(highlight),
          lintGutter(),
          linter(source, { delay: lintDelayMs }),
          theme,
          EditorView.contentAttributes.of({ 'aria-label': ariaLabel, 'data-testid': 'yaml-input', spellcheck: 'false', autocapitalize: 'off' }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) callbacks.current.onChange?.(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = created;
    return () => {
      created.destroy();
      view.current = null;
    };
    // made once per mount; a new `initialValue` needs a new key
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useImperativeHandle(ref, () => ({
    goTo(line: number, column: number) {
      const v = view.current;
      if (!v) return;
      const l = v.state.doc.line(Math.min(Math.max(1, line), v.state.doc.lines));
      const pos = Math.min(l.to, l.from + Math.max(0, column - 1));
      v.dispatch({ selection: { anchor: pos }, scrollIntoView: true });
      v.focus();
    },
  }));

  return <div ref={host} className="yaml-editor" data-testid="yaml-editor" />;
});

export default YamlEditor;
