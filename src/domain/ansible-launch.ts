/**
 * What a manual run may change of its Ansible steps at launch: `limit`, `tags`, `check_mode` and
 * `extra_vars` (merged over the step's own). Applied to every `ansible_playbook` step of the run's
 * snapshot when the run is written, so the run shows what it really ran. A re-run on failed hosts
 * is a launch with `limit` set to them.
 */
import type { ErrorDetails } from './errors.js';

export interface AnsibleLaunchOverride {
  limit?: string;
  tags?: string[];
  check_mode?: boolean;
  extra_vars?: Record<string, unknown>;
}

const TAG = /^[A-Za-z0-9_.-]+$/;

/** Problems with an override, keyed `ansible.<field>`. */
export function ansibleOverrideProblems(o: AnsibleLaunchOverride): ErrorDetails {
  const details: ErrorDetails = {};
  if (o.limit !== undefined && (o.limit === '' || o.limit.startsWith('-') || o.limit.length > 4096 || /[\s\0]/.test(o.limit)))
    details['ansible.limit'] = ['Hosts or groups separated by commas or colons; must not start with "-" nor hold spaces.'];
  if (o.tags !== undefined && !o.tags.every((t) => TAG.test(t))) details['ansible.tags'] = ['Tags match [A-Za-z0-9_.-]+.'];
  return details;
}

export function applyAnsibleOverride<S extends { type: string; config: Record<string, unknown> }>(steps: S[], o: AnsibleLaunchOverride | undefined): S[] {
  if (!o || Object.keys(o).length === 0) return steps;
  return steps.map((step) => {
    if (step.type !== 'ansible_playbook') return step;
    const config = { ...step.config };
    if (o.limit !== undefined) config.limit = o.limit;
    if (o.tags !== undefined) config.tags = o.tags;
    if (o.check_mode !== undefined) config.check_mode = o.check_mode;
    if (o.extra_vars !== undefined) config.extra_vars = { ...((config.extra_vars as Record<string, unknown> | undefined) ?? {}), ...o.extra_vars };
    return { ...step, config };
  });
}
