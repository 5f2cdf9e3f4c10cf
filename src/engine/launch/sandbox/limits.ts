/** A step's resource limits: the server's defaults, overridden field by field by the step's own. */
import type { StepLimits } from '../../../domain/pipeline.js';
import { parseSize } from '../../../domain/sizes.js';
import type { ResolvedLimits } from './cgroups.js';

export function resolveLimits(defaults: ResolvedLimits, step: StepLimits | undefined): ResolvedLimits {
  if (!step) return defaults;
  return {
    memoryBytes: step.memory === undefined ? defaults.memoryBytes : (parseSize(step.memory) ?? defaults.memoryBytes),
    processes: step.processes ?? defaults.processes,
    cpus: step.cpus ?? defaults.cpus,
    fileSizeBytes: step.file_size === undefined ? defaults.fileSizeBytes : (parseSize(step.file_size) ?? defaults.fileSizeBytes),
  };
}
