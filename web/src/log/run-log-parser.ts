/**
 * Parses the whole-run log (`GET /api/pipeline-runs/{id}/logs/`) into step sections: a step starts
 * at its `==> Step name` header line, and lines of parallel steps carry a `[step name] ` prefix that
 * routes them to their own section. Lines before the first header form a preamble. Pure TypeScript.
 */
import { appendText, createSection, splitLines, type LogSection } from './log-document';

export interface StepRef {
  id: number;
  name: string;
  parallel_group?: string | null;
}

/** Names of the steps in the same parallel group as `name` (just `name` when it has none). */
function groupOf(steps: StepRef[], name: string): Set<string> | null {
  const step = steps.find((s) => s.name === name);
  if (!step || step.parallel_group === undefined) return null;
  if (!step.parallel_group) return new Set([name]);
  return new Set(steps.filter((s) => s.parallel_group === step.parallel_group).map((s) => s.name));
}

const HEADER = /^==> (.*)$/;
const PREFIX = /^\[([^\]]+)\] ?(.*)$/s;

export function parseRunLog(text: string, steps: StepRef[]): LogSection[] {
  const sections: LogSection[] = [];
  const byName = new Map<string, LogSection>();
  const unusedSteps = [...steps];
  let current: LogSection | null = null;
  /** Steps introduced by headers with no plain line in between: the running parallel group. */
  let group = new Set<string>();
  let plainSinceHeader = true;

  const sectionFor = (title: string): LogSection => {
    const existing = byName.get(title);
    if (existing) return existing;
    const at = unusedSteps.findIndex((s) => s.name === title);
    const step = at === -1 ? null : (unusedSteps.splice(at, 1)[0] ?? null);
    const section = createSection(step ? `step-${step.id}` : `title-${sections.length}`, step ? step.id : null, title);
    sections.push(section);
    byName.set(title, section);
    return section;
  };

  for (const line of splitLines(text)) {
    const header = HEADER.exec(line);
    if (header) {
      const title = (header[1] ?? '').trim();
      const section = sectionFor(title);
      // the steps' parallel_group decides; without it, consecutive headers form a group
      const known = groupOf(steps, title);
      if (known) group = known;
      else if (plainSinceHeader) group = new Set([title]);
      else group.add(title);
      plainSinceHeader = false;
      current = section;
      continue;
    }
    const prefixed = PREFIX.exec(line);
    if (prefixed && group.size > 1 && group.has(prefixed[1] ?? '')) {
      const target = byName.get(prefixed[1] ?? '');
      if (target) {
        appendText(target, `${prefixed[2] ?? ''}\n`);
        continue;
      }
    }
    if (!current) {
      current = createSection('preamble', null, 'Run');
      sections.unshift(current);
    }
    appendText(current, `${line}\n`);
    plainSinceHeader = true;
    if (!groupOf(steps, current.title)) group = new Set([current.title]);
  }
  return sections;
}
