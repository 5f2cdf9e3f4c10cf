/**
 * The inventory text editor (CodeMirror 6, as the pipeline file's YAML editor, whose theme it
 * shares): YAML highlighting for `yaml`, a small INI mode for `ini` ([groups], key=value, comments).
 * Ansible's parser is the judge: a save that it refuses names the line, and `errorLine` marks it.
 * Loaded on demand (default export).
 */
import { useEffect, useRef } from 'react';
import { EditorState, StateEffect, StateField } from '@codemirror/state';
import {
  Decoration,
  EditorView,
  drawSelection,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
  type DecorationSet,
} from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { StreamLanguage, syntaxHighlighting } from '@codemirror/language';
import { yaml } from '@codemirror/lang-yaml';
import { highlight, theme } from '../pipeline-file/YamlEditor';

const ini = StreamLanguage.define<{ afterEquals: boolean }>({
  startState: () => ({ afterEquals: false }),
  token(stream, state) {
    if (stream.sol()) state.afterEquals = false;
    if (stream.eatSpace()) return null;
    if (stream.sol() && (stream.peek() === '#' || stream.peek() === ';')) {
      stream.skipToEnd();
      return 'comment';
    }
    if (stream.sol() && stream.peek() === '[') {
      stream.skipTo(']');
      stream.next();
      return 'heading';
    }
    if (state.afterEquals) {
      stream.eatWhile(/\S/);
      state.afterEquals = false;
      return 'string';
    }
    if (stream.match(/^[^\s=]+(?==)/)) {
      stream.next();
      state.afterEquals = true;
      return 'propertyName';
    }
    stream.eatWhile(/\S/);
    return 'variableName';
  },
});

const setErrorLine = StateEffect.define<number | null>();
const errorLineField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(value, tr) {
    value = value.map(tr.changes);
    for (const effect of tr.effects) {
      if (!effect.is(setErrorLine)) continue;
      const n = effect.value;
      if (n === null || n < 1 || n > tr.state.doc.lines) value = Decoration.none;
      else value = Decoration.set([Decoration.line({ class: 'cm-error-line' }).range(tr.state.doc.line(n).from)]);
    }
    return value;
  },
  provide: (f) => EditorView.decorations.from(f),
});

export default function InventoryEditor({
  initialValue,
  format,
  onChange,
  errorLine,
}: {
  initialValue: string;
  format: 'ini' | 'yaml';
  onChange: (text: string) => void;
  errorLine: number | null;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;

  useEffect(() => {
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
          keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
          format === 'yaml' ? yaml() : ini,
          syntaxHighlighting(highlight),
          errorLineField,
          theme,
          EditorView.theme({ '.cm-error-line': { backgroundColor: 'color-mix(in srgb, var(--danger) 18%, transparent)' } }),
          EditorView.contentAttributes.of({ 'aria-label': 'Inventory', 'data-testid': 'inventory-content', spellcheck: 'false', autocapitalize: 'off' }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) onChangeRef.current(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = created;
    return () => {
      created.destroy();
      view.current = null;
    };
    // made once per mount; another format or text needs a new key
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    view.current?.dispatch({ effects: setErrorLine.of(errorLine) });
  }, [errorLine]);

  return <div ref={host} className="yaml-editor inventory-editor" data-testid="inventory-editor" />;
}
