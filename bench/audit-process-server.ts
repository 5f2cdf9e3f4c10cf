/**
 * One side of bench/audit-processes.ts in a process of its own: the real context in a fresh data
 * folder, an API server whose pipelines service has its audit log (`with`) or not (`without`),
 * the pipeline every measured update rewrites. Prints one JSON line (URL, token, body, pid) and
 * serves until killed.
 *
 *   node --import tsx bench/audit-process-server.ts with|without
 */
import { apiServer, openAuditBench, seedAuditedPipeline, serviceWith, UPDATE_BODY } from './audit-servers.js';

const side = process.argv[2];
if (side !== 'with' && side !== 'without') throw new Error('usage: audit-process-server.ts with|without');
const { ctx, close } = await openAuditBench(`ansflow-audit-${side}-`);
const server = await apiServer(ctx, side === 'with' ? ctx.pipelines : serviceWith(ctx, { audit: undefined }));
const base = await server.listen({ host: '127.0.0.1', port: 0 });
const { token, id } = await seedAuditedPipeline(base);
process.stdout.write(`${JSON.stringify({ url: `${base}/api/pipelines/${id}/`, token, body: UPDATE_BODY, pid: process.pid })}\n`);
process.on('SIGTERM', () => {
  void server
    .close()
    .then(close)
    .finally(() => process.exit(0));
});
