#!/usr/bin/env node
// A stand-in for the AnsFlow API (port 8000) and gateway (port 8001) for UI development and smoke
// tests before the real server exists. Serves web/dist with SPA fallback. Not used in production.
//   node web/dev/mock-server.mjs [--api-port 8000] [--gw-port 8001]
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';

const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(name);
  return i === -1 ? def : Number(args[i + 1]);
};
const API_PORT = arg('--api-port', 8000);
const GW_PORT = arg('--gw-port', 8001);
const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const E = '\u001b';

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const token = (kind) => `${b64({ alg: 'HS256' })}.${b64({ exp: Math.floor(Date.now() / 1000) + 900, kind })}.sig`;
const now = () => new Date().toISOString();
const user = { id: 1, username: 'admin', email: 'admin@example.com', first_name: 'Admin', last_name: 'User', is_active: true, date_joined: now(), role: 'admin' };
const stepTypes = [
  { id: 'git_checkout', name: 'Git Checkout', description: '检出 Git 代码', category: 'source_control', icon: 'git', config_schema: { type: 'object', properties: { repository: { type: 'string', title: '仓库地址', description: 'https://, ssh:// or user@host:path' }, branch: { type: 'string', title: '分支名称', default: 'main' }, depth: { type: 'integer', title: 'Depth', default: 1, minimum: 0 }, submodules: { type: 'boolean', title: 'Submodules', default: false } }, required: ['repository'] } },
  { id: 'shell_command', name: 'Shell Command', description: '执行 Shell 命令', category: 'build', icon: 'terminal', config_schema: { type: 'object', properties: { command: { type: 'string', title: '命令', format: 'textarea', description: 'Script run with bash -e' }, shell: { type: 'string', enum: ['bash', 'sh'], default: 'bash' }, env: { type: 'object', title: '环境变量', additionalProperties: { type: 'string' } } }, required: ['command'] } },
];
let nextId = 3;
const pipelines = [
  { id: 1, name: 'Frontend Build Pipeline', description: 'Build and deploy frontend application', status: 'active', repository_url: 'https://github.com/user/repo.git', branch: 'main', trigger_events: ['push'], created_by: { id: 1, username: 'admin' }, created_at: now(), updated_at: now(), variables: { NODE_ENV: 'production', TOKEN: { value: '******', secret: true } }, steps: [{ name: 'Checkout', type: 'git_checkout', config: { repository: 'https://github.com/user/repo.git' } }, { name: 'Lint', type: 'shell_command', config: { command: 'npm run lint' }, parallel_group: 'checks' }, { name: 'Test', type: 'shell_command', config: { command: 'npm test' }, parallel_group: 'checks' }] },
  { id: 2, name: 'Nightly backup', description: '', status: 'inactive', repository_url: '', branch: 'main', trigger_events: [], created_by: { id: 1, username: 'admin' }, created_at: now(), updated_at: now(), variables: {}, steps: [] },
];
const bigLog = Array.from({ length: 200_000 }, (_, i) => (i % 1000 === 0 ? `${E}[1;32m✓${E}[0m checkpoint ${i}` : `line ${i} ${E}[36minfo${E}[0m doing work`)).join('\n') + '\n';
const runs = [
  { id: 1, number: 1, pipeline: { id: 1, name: 'Frontend Build Pipeline' }, status: 'failed', trigger: { type: 'manual', user: { id: 1, username: 'admin' } }, branch: 'main', commit: 'abcdef1234567890', variables: {}, created_at: now(), started_at: now(), finished_at: now(), duration_ms: 65432, progress: 100, current_step: null, steps: [
    { id: 11, name: 'Checkout', type: 'git_checkout', status: 'success', started_at: now(), finished_at: now(), exit_code: 0, attempts: 1, parallel_group: null, duration_ms: 1200 },
    { id: 12, name: 'Lint', type: 'shell_command', status: 'success', started_at: now(), finished_at: now(), exit_code: 0, attempts: 2, parallel_group: 'checks', duration_ms: 64000 },
    { id: 13, name: 'Test', type: 'shell_command', status: 'failed', started_at: now(), finished_at: now(), exit_code: 1, attempts: 1, parallel_group: 'checks', duration_ms: 3000 },
  ] },
];
const stepLogs = {
  11: `Cloning into '.'...\n${E}[32mdone${E}[0m\n<script>alert(1)</script>\n${E}[31m<img src=x onerror=alert(1)>${E}[0m\n${E}]8;;javascript:alert(1)${E}\\click me${E}]8;;${E}\\\n`,
  12: bigLog,
  13: `${E}[1;31mError:${E}[0m 3 tests failed\n`,
};

function page(list, url) {
  const p = Number(url.searchParams.get('page') ?? 1);
  const size = Number(url.searchParams.get('page_size') ?? 20);
  const results = list.slice((p - 1) * size, p * size);
  if (p > 1 && results.length === 0) return [404, err('RESOURCE_NOT_FOUND', 'Invalid page.')];
  return [200, { count: list.length, next: null, previous: null, results }];
}
const err = (code, message, details = {}) => ({ error: { code, message, details }, timestamp: now(), path: '' });
const summary = (p) => ({ ...p, steps_count: p.steps.length, last_run: runs.filter((r) => r.pipeline.id === p.id).map((r) => ({ id: r.id, status: r.status, started_at: r.started_at, finished_at: r.finished_at }))[0] ?? null });

async function body(req) {
  let data = '';
  for await (const chunk of req) data += chunk;
  return data ? JSON.parse(data) : {};
}

function validate(b) {
  const details = {};
  if (!b.name) details.name = ['此字段不能为空'];
  (b.steps ?? []).forEach((s, i) => {
    if (s.type === 'git_checkout' && !/^(https?|ssh|git):\/\//.test(s.config?.repository ?? '')) details[`steps[${i}].config.repository`] = ['Unsupported repository URL'];
  });
  return details;
}

async function api(req, res, url) {
  const send = (status, payload, headers = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(payload === undefined ? '' : JSON.stringify(payload));
  };
  const path = url.pathname;
  const m = (re) => re.exec(path);
  if (path === '/api/auth/login/' && req.method === 'POST') {
    const b = await body(req);
    if (b.username === 'admin' && b.password === 'admin123') return send(200, { access: token('access'), refresh: token('refresh'), user });
    return send(401, err('AUTHENTICATION_ERROR', 'Invalid credentials'));
  }
  if (path === '/api/auth/refresh/') return send(200, { access: token('access'), refresh: token('refresh') });
  if (path === '/api/auth/logout/') return send(204);
  if (path === '/api/config/') return send(200, { gateway_url: `http://127.0.0.1:${GW_PORT}`, version: '1.0.0' });
  if (!req.headers.authorization) return send(401, err('AUTHENTICATION_ERROR', 'Not authenticated'));
  if (path === '/api/users/me/') return send(200, user);
  if (path === '/api/users/') return send(...page([user, { ...user, id: 2, username: 'dev', role: 'developer' }], url));
  if (path === '/api/step-types/') return send(200, { results: stepTypes });
  if (path === '/api/pipelines/' && req.method === 'GET') {
    const q = (url.searchParams.get('search') ?? '').toLowerCase();
    const st = url.searchParams.get('status');
    return send(...page(pipelines.filter((p) => p.name.toLowerCase().includes(q) && (!st || p.status === st)).map(summary), url));
  }
  if (path === '/api/pipelines/' && req.method === 'POST') {
    const b = await body(req);
    const details = validate(b);
    if (Object.keys(details).length) return send(400, err('VALIDATION_ERROR', '请求数据验证失败', details));
    const p = { id: nextId++, created_by: { id: 1, username: 'admin' }, created_at: now(), updated_at: now(), ...b };
    pipelines.push(p);
    return send(201, summary(p));
  }
  let mm;
  if ((mm = m(/^\/api\/pipelines\/(\d+)\/$/))) {
    const p = pipelines.find((x) => x.id === Number(mm[1]));
    if (!p) return send(404, err('RESOURCE_NOT_FOUND', 'Not found'));
    if (req.method === 'GET') return send(200, summary(p));
    if (req.method === 'DELETE') {
      pipelines.splice(pipelines.indexOf(p), 1);
      return send(204);
    }
    const b = await body(req);
    const details = req.method === 'PUT' ? validate(b) : {};
    if (Object.keys(details).length) return send(400, err('VALIDATION_ERROR', '请求数据验证失败', details));
    Object.assign(p, b, { updated_at: now() });
    return send(200, summary(p));
  }
  if ((mm = m(/^\/api\/pipelines\/(\d+)\/runs\/$/))) return send(...page(runs.filter((r) => r.pipeline.id === Number(mm[1])), url));
  if ((mm = m(/^\/api\/pipelines\/(\d+)\/run\/$/))) {
    const p = pipelines.find((x) => x.id === Number(mm[1]));
    const id = runs.length + 1;
    const run = { id, number: id, pipeline: { id: p.id, name: p.name }, status: 'queued', trigger: { type: 'manual', user: { id: 1, username: 'admin' } }, branch: p.branch, commit: null, variables: {}, created_at: now(), started_at: null, finished_at: null, duration_ms: null, progress: 0, current_step: null, steps: [{ id: id * 100 + 1, name: 'Build', type: 'shell_command', status: 'pending', started_at: null, finished_at: null, exit_code: null, attempts: 1, parallel_group: null }] };
    runs.unshift(run);
    simulate(run);
    return send(201, run);
  }
  if (path === '/api/pipeline-runs/') return send(...page(runs, url));
  if ((mm = m(/^\/api\/pipeline-runs\/(\d+)\/$/))) {
    const r = runs.find((x) => x.id === Number(mm[1]));
    return r ? send(200, r) : send(404, err('RESOURCE_NOT_FOUND', 'Not found'));
  }
  if ((mm = m(/^\/api\/pipeline-runs\/(\d+)\/cancel\/$/))) {
    const r = runs.find((x) => x.id === Number(mm[1]));
    if (!['queued', 'running'].includes(r.status)) return send(409, err('RESOURCE_CONFLICT', 'Run already finished'));
    r.cancelled = true;
    return send(202, { status: 'cancelling' });
  }
  if ((mm = m(/^\/api\/pipeline-runs\/(\d+)\/logs\/$/))) {
    const step = url.searchParams.get('step');
    const offset = Number(url.searchParams.get('offset') ?? 0);
    const text = step ? (stepLogs[step] ?? '') : Object.values(stepLogs).join('');
    const buf = Buffer.from(text).subarray(offset);
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Next-Offset': String(offset + buf.length) });
    return res.end(buf);
  }
  if (path === '/api/webhook-deliveries/') return send(...page([{ id: 1, provider: 'github', event: 'push', action: null, repository: 'user/repo', ref: 'refs/heads/main', commit: 'abcdef123456', verdict: 'ignored', reason: 'no active pipeline matches branch main', runs: [], received_at: now() }], url));
  return send(404, err('RESOURCE_NOT_FOUND', 'Unknown route'));
}

const sockets = new Map();
function broadcast(runId, message) {
  for (const [ws, id] of sockets) if (id === runId || id === null) ws.send(JSON.stringify(message));
}
function simulate(run) {
  const step = run.steps[0];
  const status = () => broadcast(run.id, { type: 'pipeline_status_update', data: { run_id: run.id, status: run.status, current_step: run.current_step, progress: run.progress, steps: run.steps } });
  stepLogs[step.id] = '';
  let n = 0;
  setTimeout(() => {
    run.status = 'running';
    run.started_at = step.started_at = now();
    step.status = 'running';
    run.current_step = { id: step.id, name: step.name, status: 'running', started_at: step.started_at };
    status();
    const timer = setInterval(() => {
      if (run.cancelled || n >= 40) {
        clearInterval(timer);
        run.status = step.status = run.cancelled ? 'cancelled' : 'success';
        run.finished_at = step.finished_at = now();
        run.progress = 100;
        run.current_step = null;
        status();
        for (const [ws, id] of sockets) if (id === run.id) ws.close();
        return;
      }
      const text = `${E}[33mstep output ${n}${E}[0m <b>not bold</b>\n`;
      const offset = Buffer.byteLength(stepLogs[step.id]);
      stepLogs[step.id] += text;
      n++;
      run.progress = Math.round((n / 40) * 100);
      broadcast(run.id, { type: 'log', data: { run_id: run.id, step_id: step.id, offset, text } });
      if (n % 10 === 0) status();
    }, 150);
  }, 500);
}

createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  try {
    if (url.pathname.startsWith('/api/')) return await api(req, res, url);
    const file = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
    try {
      const data = await readFile(join(DIST, file));
      const types = { '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.html': 'text/html' };
      res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream' });
      res.end(data);
    } catch {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(await readFile(join(DIST, 'index.html')));
    }
  } catch (e) {
    res.writeHead(500);
    res.end(String(e));
  }
}).listen(API_PORT, '127.0.0.1');

const gw = createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*' });
  res.end(JSON.stringify({ status: 'healthy', version: '1.0.0', uptime_seconds: 3723, services: { database: 'healthy' }, metrics: { active_pipelines: 1, running_jobs: 0, queue_size: 0 } }));
});
const wss = new WebSocketServer({ server: gw });
wss.on('connection', (ws, req) => {
  const m = /^\/ws\/pipeline-runs\/(\d+)?/.exec(req.url ?? '');
  const id = m?.[1] ? Number(m[1]) : null;
  sockets.set(ws, id);
  ws.on('close', () => sockets.delete(ws));
  const run = runs.find((r) => r.id === id);
  if (run) ws.send(JSON.stringify({ type: 'pipeline_status_update', data: { run_id: run.id, status: run.status, current_step: run.current_step, progress: run.progress, steps: run.steps } }));
});
gw.listen(GW_PORT, '127.0.0.1');
console.log(`mock API on ${API_PORT}, gateway on ${GW_PORT}`);
