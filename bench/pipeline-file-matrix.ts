/**
 * Expanding and validating a pipeline file with a 256-cell matrix on each of 20 steps (issue 11,
 * Performance: target under 50 ms). The whole of parsePipelineFile is timed, as lint and a run call
 * it: YAML with positions, the JSON Schema, matrix expansion, needs renamed to cells, and the step
 * catalogue's validation of every one of the 5,120 planned steps. Three shapes:
 *   - stages:      no needs (each matrix is one stage, as parallel_group);
 *   - needs chain: step i needs step i-1, so each cell waits for the 256 cells before it
 *                  (65,536 names per link, 1.2 million in the plan: the worst case);
 *   - needs fan:   every step needs the first one only.
 * Also the parts: YAML + schema alone, and a file of 20 steps without a matrix.
 *
 *   node --import tsx bench/pipeline-file-matrix.ts [--rounds N]
 */
import { cpus, loadavg } from 'node:os';
import { parsePipelineFile } from '../src/domain/pipeline-file/index.js';
import { loadYaml } from '../src/domain/pipeline-file/yaml-document.js';
import { checkSchema } from '../src/domain/pipeline-file/check-schema.js';
import { ascending, median, percentile } from './stats.js';

let rounds = 30;
for (let i = 2; i < process.argv.length; i++) if (process.argv[i] === '--rounds') rounds = Number(process.argv[++i]);

const axis = (n: number) => `[${Array.from({ length: n }, (_, i) => `v${i}`).join(', ')}]`;
const file = (needs: (i: number) => string | null, matrix = true) =>
  `steps:\n${Array.from({ length: 20 }, (_, i) => {
    const need = needs(i);
    return [
      `  - name: step-${i}`,
      `    run: make target-${i}`,
      ...(matrix ? [`    matrix: { OS: ${axis(16)}, NODE: ${axis(16)} }`] : []),
      ...(need ? [`    needs: [${need}]`] : []),
    ].join('\n');
  }).join('\n')}\n`;

const shapes: [string, string][] = [
  ['stages (no needs)', file(() => null)],
  ['needs chain', file((i) => (i > 0 ? `step-${i - 1}` : null))],
  ['needs fan (all need step-0)', file((i) => (i > 0 ? 'step-0' : null))],
  ['20 steps, no matrix, chain', file((i) => (i > 0 ? `step-${i - 1}` : null), false)],
];

/** Wall time and this process' CPU time (user + system) per call, in ms. On a shared machine the
 * CPU time is the figure to read: wall time also counts the time other processes held the CPU. */
async function time(work: () => Promise<unknown> | unknown): Promise<{ wall: number[]; cpu: number[] }> {
  for (let i = 0; i < 5; i++) await work();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = process.hrtime.bigint();
    const used = process.cpuUsage();
    await work();
    const spent = process.cpuUsage(used);
    wall.push(Number(process.hrtime.bigint() - start) / 1e6);
    cpu.push((spent.user + spent.system) / 1e3);
  }
  return { wall, cpu };
}

const rows: string[] = [];
for (const [label, content] of shapes) {
  const result = await parsePipelineFile(content, { path: '.ansflow.yml' });
  if (!result.valid) throw new Error(`${label}: ${JSON.stringify(result.errors.slice(0, 3))}`);
  const edges = result.steps.reduce((n, s) => n + (s.needs?.length ?? 0), 0);
  const whole = await time(() => parsePipelineFile(content, { path: '.ansflow.yml' }));
  const front = await time(() => checkSchema(loadYaml(content, '.ansflow.yml').value));
  const wall = ascending(whole.wall);
  const cpu = ascending(whole.cpu);
  rows.push(
    `| ${label} | ${result.steps.length} | ${edges} | ${median(cpu).toFixed(1)} | ${percentile(cpu, 95).toFixed(1)} | ${median(wall).toFixed(1)} | ${wall[0]!.toFixed(1)} | ${median(front.cpu).toFixed(1)} |`,
  );
}

console.log(
  `node ${process.version}, ${cpus().length} CPU(s) (${cpus()[0]?.model ?? '?'}), load average ${loadavg()[0]!.toFixed(2)}, ${rounds} rounds after 5 warm-up`,
);
console.log('| file | planned steps | needs names | CPU ms median | CPU ms p95 | wall ms median | wall ms min | of which YAML + schema, CPU ms median |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const row of rows) console.log(row);
