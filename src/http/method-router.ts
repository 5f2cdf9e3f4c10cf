/**
 * Knows which methods each registered path answers, so an unknown method on a known path is a
 * 405 with `Allow`, not a 404. Fastify's own router only answers "no route".
 */
import FindMyWay from 'find-my-way';
import type { FastifyInstance, HTTPMethods } from 'fastify';

const METHODS: HTTPMethods[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

export function trackMethods(app: FastifyInstance<any, any, any, any, any>) {
  const router = FindMyWay({ ignoreTrailingSlash: true, caseSensitive: true });
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (!METHODS.includes(method as HTTPMethods)) continue;
      try {
        router.on(method as 'GET', route.url, () => {});
      } catch {
        // Already known (Fastify registers HEAD/GET pairs and trailing-slash variants).
      }
    }
  });
  return {
    allowed(path: string): string[] {
      return METHODS.filter((m) => router.find(m as 'GET', path) !== null);
    },
  };
}
