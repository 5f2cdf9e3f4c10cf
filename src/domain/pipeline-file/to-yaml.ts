/**
 * A pipeline defined in AnsFlow as a pipeline file: what "export as YAML" gives. Parsing the
 * result gives the same steps back (a test proves it). Secret variables are not written: their
 * names are listed in a comment, their values stay in AnsFlow.
 */
import { Document } from 'yaml';
import type { StepDefinition, Variables } from '../pipeline.js';

export interface ExportablePipeline {
  name?: string;
  steps: readonly StepDefinition[];
  variables?: Variables;
}

export interface ExportOptions {
  /** The JSON Schema's absolute URL, for the `# yaml-language-server: $schema=` line editors read. */
  schemaUrl?: string;
}

/** Field order in the file: what a reader looks for first. */
const ORDER: (keyof StepDefinition | 'run')[] = [
  'name',
  'run',
  'type',
  'config',
  'needs',
  'parallel_group',
  'when',
  'env',
  'timeout_seconds',
  'retries',
  'continue_on_error',
  'runs_on',
  'credential',
  'environment',
  'network',
  'limits',
];

export function pipelineToYaml(pipeline: ExportablePipeline, options: ExportOptions = {}): string {
  const header: string[] = [];
  if (options.schemaUrl) header.push(` yaml-language-server: $schema=${options.schemaUrl.replace(/[\r\n]/g, '')}`);
  if (pipeline.name !== undefined) header.push(` Exported from the AnsFlow pipeline "${pipeline.name.replace(/[\r\n]/g, ' ')}".`);

  const plain = Object.entries(pipeline.variables ?? {}).filter(([, v]) => !v.secret);
  const secret = Object.entries(pipeline.variables ?? {})
    .filter(([, v]) => v.secret)
    .map(([k]) => k);
  const body: Record<string, unknown> = {};
  if (plain.length > 0) body.variables = Object.fromEntries(plain.map(([k, v]) => [k, v.value]));
  body.steps = pipeline.steps.map(fileStep);

  // No anchors: two steps with equal lists are written out twice, as a person would.
  const doc = new Document(body, { aliasDuplicateObjects: false });
  if (header.length > 0) doc.commentBefore = header.join('\n');
  if (secret.length > 0) doc.comment = ` Secret variables stay in AnsFlow and are not exported: ${secret.join(', ')}`;
  // lineWidth 0: long commands stay on one line instead of being folded.
  return doc.toString({ lineWidth: 0 });
}

/** A stored step as the file writes it: a shell command with only a command becomes `run:`. */
function fileStep(step: StepDefinition): Record<string, unknown> {
  const out: Record<string, unknown> = { ...step };
  const config = step.config as Record<string, unknown>;
  if (step.type === 'shell_command' && typeof config.command === 'string') {
    const { command, ...rest } = config;
    out.run = command;
    delete out.type;
    if (Object.keys(rest).length > 0) out.config = rest;
    else delete out.config;
  } else if (Object.keys(config).length === 0) delete out.config;
  const ordered: Record<string, unknown> = {};
  for (const key of ORDER) if (out[key] !== undefined) ordered[key] = out[key];
  for (const [key, value] of Object.entries(out)) if (!(key in ordered) && value !== undefined) ordered[key] = value;
  return ordered;
}
