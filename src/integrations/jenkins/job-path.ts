/**
 * Jenkins job names and build parameter names, checked before anything is sent. A job in folders
 * is written `a/b` and addressed as `/job/a/job/b`; each segment is URL-encoded on its own, so a
 * name can never add path segments or a query string. Parameter names must look like identifiers
 * (`X=1&delay=0` is refused, not smuggled into the form); values are sent verbatim.
 */
import { JenkinsError } from './jenkins-error.js';

export const PARAMETER_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export function jobNameProblem(jobName: string): string | null {
  if (jobName.length === 0) return 'Jenkins job name must not be empty';
  if (jobName.length > 1024) return 'Jenkins job name must be at most 1024 characters';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(jobName)) return 'Jenkins job name must not contain control characters';
  for (const segment of jobName.split('/')) {
    if (segment.length === 0) return 'Jenkins job name must not contain empty folder segments';
    if (segment === '.' || segment === '..') return 'Jenkins job name must not contain "." or ".." segments';
  }
  return null;
}

/** `a/b` → `job/a/job/b` (relative to the Jenkins base URL). */
export function jobPath(jobName: string): string {
  const problem = jobNameProblem(jobName);
  if (problem) throw new JenkinsError('invalid_request', problem);
  return jobName
    .split('/')
    .map((segment) => `job/${encodeURIComponent(segment)}`)
    .join('/');
}

export function parameterNameProblem(name: string): string | null {
  if (!PARAMETER_NAME_PATTERN.test(name)) return `Jenkins parameter name ${JSON.stringify(name.slice(0, 100))} must match ${PARAMETER_NAME_PATTERN.source}`;
  if (name.length > 255) return 'Jenkins parameter names must be at most 255 characters';
  return null;
}

/** The form body for buildWithParameters; throws invalid_request on the first bad name. */
export function buildParametersForm(params: Record<string, string>): URLSearchParams {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    const problem = parameterNameProblem(name);
    if (problem) throw new JenkinsError('invalid_request', problem);
    if (typeof value !== 'string') throw new JenkinsError('invalid_request', `Jenkins parameter ${name} must be a string`);
    form.append(name, value);
  }
  return form;
}
