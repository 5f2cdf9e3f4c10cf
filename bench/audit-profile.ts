/**
 * Where the audited pipeline update's extra CPU goes (issue 16): the same PUT injected into two
 * or three servers (without the audit log; transaction, views and diff with no event written; as
 * served) in long alternating blocks, with V8's sampling profiler running during each block only, so each
 * side gets a profile of its own. Prints CPU per update per side and the functions whose self
 * time differs most between the sides (µs per update), and writes the merged profiles
 * (`<out>/<side>.cpuprofile`, readable in Chrome's DevTools) for a closer look.
 *
 *   node --import tsx bench/audit-profile.ts [--blocks 8] [--calls 1000] [--out /tmp] [--sides without,tx,with]
 */
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { apiServer, AUDITED_PIPELINE, openAuditBench, serviceWith, transactionOnlyAudit, UPDATE_BODY } from './audit-servers.js';

type Side = 'without' | 'tx' | 'with';
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values: args } = parseArgs({
  options: {
    blocks: { type: 'string', default: '8' },
    calls: { type: 'string', default: '1000' },
    out: { type: 'string', default: tmpdir() },
    sides: { type: 'string', default: 'without,tx' },
    interval: { type: 'string', default: '50' },
  },
});
const BLOCKS = Number(args.blocks);
const CALLS = Number(args.calls);
const SIDES = args.sides.split(',') as Side[];

/** Self time (µs) by function (name, file, line), from a profile's samples and their time deltas. */
function selfTimes(profile: Profile, into: Map<string, number>) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  profile.samples.forEach((id, i) => {
    const f = byId.get(id)!.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*\/src\//, 'src/')}:${f.lineNumber + 1}`;
    into.set(key, (into.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
}

async function main() {
  const { ctx, close } = await openAuditBench('ansflow-audit-profile-');
  const servers = {
    without: await apiServer(ctx, serviceWith(ctx, { audit: undefined })),
    tx: await apiServer(ctx, serviceWith(ctx, { audit: transactionOnlyAudit(ctx) })),
    with: await apiServer(ctx, ctx.pipelines),
  };
  const session = new Session();
  session.connect();
  try {
    const login = await servers.with.inject({ method: 'POST', url: '/api/auth/login/', payload: { username: 'admin', password: 'admin123' } });
    const token = (login.json() as { access: string }).access;
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    const created = await servers.with.inject({ method: 'POST', url: '/api/pipelines/', headers, payload: JSON.stringify(AUDITED_PIPELINE) });
    if (created.statusCode !== 201) throw new Error(`seed failed: ${created.statusCode} ${created.body}`);
    const id = (created.json() as { id: number }).id;
    const body = UPDATE_BODY;
    let n = 0;
    const inject = async (side: Side) => {
      const r = await servers[side].inject({ method: 'PUT', url: `/api/pipelines/${id}/`, headers, payload: body.replace('[<id>]', String(n++)) });
      if (r.statusCode !== 200) throw new Error(`${side}: ${r.statusCode} ${r.body}`);
    };
    for (let i = 0; i < 500; i++) for (const side of SIDES) await inject(side);

    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: Number(args.interval) });
    const self = new Map(SIDES.map((s) => [s, new Map<string, number>()]));
    const cpu = new Map(SIDES.map((s) => [s, [] as number[]]));
    for (let b = 0; b < BLOCKS; b++) {
      const order = b % 2 === 0 ? SIDES : [...SIDES].reverse();
      for (const side of order) {
        await session.post('Profiler.start');
        const start = process.cpuUsage();
        for (let i = 0; i < CALLS; i++) await inject(side);
        const used = process.cpuUsage(start);
        const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile };
        cpu.get(side)!.push((used.user + used.system) / CALLS);
        selfTimes(profile, self.get(side)!);
        if (b === BLOCKS - 1) writeFileSync(join(args.out, `audit-${side}.cpuprofile`), JSON.stringify(profile));
      }
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    for (const side of SIDES)
      console.log(
        `${side}: CPU per update (µs) median ${med(cpu.get(side)!).toFixed(0)}; blocks ${cpu
          .get(side)!
          .map((x) => x.toFixed(0))
          .join(' ')}`,
      );
    const per = (side: Side, key: string) => (self.get(side)!.get(key) ?? 0) / (BLOCKS * CALLS);
    const keys = new Set(SIDES.flatMap((s) => [...self.get(s)!.keys()]));
    const total = (side: Side) => [...self.get(side)!.values()].reduce((a, b) => a + b, 0) / (BLOCKS * CALLS);
    console.log(`profiled µs per update: ${SIDES.map((s) => `${s} ${total(s).toFixed(1)}`).join(', ')}`);
    const [a, b] = [SIDES[0]!, SIDES[SIDES.length - 1]!];
    const rows = [...keys].map((k) => ({ k, d: per(b, k) - per(a, k), x: SIDES.map((s) => per(s, k)) }));
    rows.sort((p, q) => Math.abs(q.d) - Math.abs(p.d));
    console.log(`self time per update (µs), ${SIDES.join(' / ')}, largest differences ${b} − ${a}:`);
    for (const r of rows.slice(0, 45))
      console.log(`${r.d >= 0 ? '+' : ''}${r.d.toFixed(2).padStart(7)}  ${r.x.map((x) => x.toFixed(2).padStart(7)).join(' ')}  ${r.k}`);
  } finally {
    session.disconnect();
    for (const s of Object.values(servers)) await s.close();
    await close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
