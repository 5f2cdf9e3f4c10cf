/**
 * A view of a JenkinsClient that can be cut off: after detach(), every call fails at once with a
 * non-transient error, so background followers end at their next poll without touching Jenkins
 * (and without stopping the builds, which an abort signal would do).
 */
import type { JenkinsClient } from '../../integrations/jenkins/jenkins-client.js';
import { JenkinsError } from '../../integrations/jenkins/jenkins-error.js';

export function detachable(client: JenkinsClient): { client: JenkinsClient; detach: () => void } {
  let detached = false;
  const view = new Proxy(client, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (detached && typeof value === 'function')
        return () => Promise.reject(new JenkinsError('unexpected_response', 'Stopped following the build: AnsFlow is shutting down'));
      return value;
    },
  });
  return { client: view, detach: () => (detached = true) };
}
