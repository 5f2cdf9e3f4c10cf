/**
 * prom-client's default metrics of this process (event-loop lag, heap and its spaces, GC
 * durations, active handles and requests, CPU, memory, open file descriptors, Node.js version):
 * collected once per process, however many contexts it holds, since each collection installs
 * observers (GC, event-loop delay) that live as long as the process.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';

let registry: Registry | null = null;

export function processRegistry(): Registry {
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  }
  return registry;
}
