/** The embedded queue passes the JobQueue contract on SQLite (the embedded mode's database). */
import { jobQueueContract } from './job-queue-contract.js';
import { EmbeddedQueue } from './embedded-queue.js';

jobQueueContract('embedded on SQLite', 'sqlite', async () => ({
  multiProcess: false,
  create: (store, { leaseSeconds }) => new EmbeddedQueue(store.repo, (e) => console.error('queue error', e), { leaseSeconds: leaseSeconds ?? 60, pollMs: 100 }),
}));
