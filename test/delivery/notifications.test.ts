/**
 * Notification channels against the real server and real receivers over real sockets: an HTTP
 * receiver that checks the webhook signature, a Slack-like receiver, an SMTP server (the
 * `smtp-server` package) that receives the mail, a receiver that fails once with a 500 (retried
 * with backoff), an SMTP server that accepts connections and never answers (a recorded failure in
 * bounded time), bad input (400 naming the field), write-only secrets, audit events, and two
 * outboxes on one database sending each delivery once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { startApi, type Harness } from '../support/api-harness.js';
import { waitFor } from '../support/wait.js';
import { verifySignature } from '../../src/domain/notifications.js';
import { NotificationOutbox } from '../../src/services/notifications/notification-outbox.js';
import { notificationsOf } from '../../src/runtime/notifications.js';
import { transactor } from '../../src/store/transaction.js';
import { createTestDatabase } from '../support/postgres.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/runtime/logger.js';
import { createContext, type AppContext } from '../../src/runtime/context.js';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** An HTTP receiver on a free loopback port; `answer` decides each reply's status. */
async function receiver(answer: (r: Received, n: number) => number = () => 200) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      const status = answer(r, received.length);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok, thanks' : 'receiver is down');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('notifications', () => {
  let h: Harness;
  let admin = '';
  let hook: Awaited<ReturnType<typeof receiver>>;
  const SECRET = 'hook-secret-0123456789';

  const as = () => ({ token: admin });
  const channel = async (body: Record<string, unknown>) => {
    const r = await h.request('POST', '/api/notification-channels/', { ...as(), body });
    assert.equal(r.status, 201, r.text);
    return r.json;
  };
  const pipeline = async (name: string, command: string, environment?: string) => {
    const r = await h.request('POST', '/api/pipelines/', {
      ...as(),
      body: { name, steps: [{ name: 'only', type: 'shell_command', config: { command }, ...(environment ? { environment } : {}) }] },
    });
    assert.equal(r.status, 201, r.text);
    return r.json.id as number;
  };
  const setCommand = async (id: number, command: string) => {
    const r = await h.request('PATCH', `/api/pipelines/${id}/`, { ...as(), body: { steps: [{ name: 'only', type: 'shell_command', config: { command } }] } });
    assert.equal(r.status, 200, r.text);
  };
  const run = async (pipelineId: number) => {
    const r = await h.request('POST', `/api/pipelines/${pipelineId}/run/`, { ...as(), body: {} });
    assert.equal(r.status, 201, r.text);
    return r.json.id as number;
  };
  const finished = (id: number) =>
    waitFor(
      async () => {
        const r = (await h.request('GET', `/api/pipeline-runs/${id}/`, as())).json;
        return ['success', 'failed', 'cancelled', 'timeout', 'error'].includes(r.status) ? r : false;
      },
      20000,
      `run ${id} to finish`,
    );
  const deliveries = async (channelId: number) => (await h.request('GET', `/api/notification-channels/${channelId}/deliveries/`, as())).json.results;

  before(async () => {
    hook = await receiver();
    h = await startApi({ notifications: { timeoutMs: 1500, maxAttempts: 3, retryBaseMs: 200 } });
    admin = await h.login();
  });
  after(async () => {
    await h?.close();
    await hook?.close();
  });

  test('bad input is a 400 naming the field: metadata addresses in any spelling, other schemes, unknown events, a Slack URL that is not one', async () => {
    const base = { name: 'bad', kind: 'webhook', events: ['run_failed'], secret: SECRET };
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://[::ffff:169.254.169.254]/',
      'http://2852039166/',
      'http://0xa9fea9fe/',
      'http://[fd00:ec2::254]/',
      'http://metadata.google.internal/',
    ]) {
      const r = await h.request('POST', '/api/notification-channels/', { ...as(), body: { ...base, config: { url } } });
      assert.equal(r.status, 400, url);
      assert.match(r.json.error.details['config.url'][0], /metadata/, url);
    }
    for (const url of ['ftp://example.com/hook', 'file:///etc/passwd', 'javascript:alert(1)']) {
      const r = await h.request('POST', '/api/notification-channels/', { ...as(), body: { ...base, config: { url } } });
      assert.equal(r.status, 400, url);
      assert.match(r.json.error.details['config.url'][0], /Only http and https/, url);
    }
    const unknownEvent = await h.request('POST', '/api/notification-channels/', {
      ...as(),
      body: { ...base, config: { url: hook.url }, events: ['run_exploded'] },
    });
    assert.equal(unknownEvent.status, 400);
    assert.ok(
      Object.keys(unknownEvent.json.error.details).some((k) => k.startsWith('events')),
      unknownEvent.text,
    );
    const noSecret = await h.request('POST', '/api/notification-channels/', { ...as(), body: { ...base, secret: undefined, config: { url: hook.url } } });
    assert.equal(noSecret.status, 400);
    assert.ok(noSecret.json.error.details.secret);
    const slackUrl = 'gopher://hooks.example/T000/B000/very-secret-token';
    const slack = await h.request('POST', '/api/notification-channels/', {
      ...as(),
      body: { name: 's', kind: 'slack', events: ['run_failed'], secret: slackUrl },
    });
    assert.equal(slack.status, 400);
    assert.ok(slack.json.error.details.secret);
    assert.ok(!slack.text.includes('very-secret-token'), 'a secret is never echoed, not even in an error');
    const smtp = await h.request('POST', '/api/notification-channels/', {
      ...as(),
      body: { name: 'm', kind: 'email', events: ['run_failed'], config: { smtp_host: '169.254.169.254', from: 'ci@example.com', to: ['not-an-address'] } },
    });
    assert.equal(smtp.status, 400);
    assert.ok(smtp.json.error.details['config.smtp_host']);
    assert.ok(smtp.json.error.details['config.to[0]']);
    const wrongField = await h.request('POST', '/api/notification-channels/', { ...as(), body: { ...base, config: { url: hook.url, smtp_host: 'x' } } });
    assert.equal(wrongField.status, 400);
    assert.ok(wrongField.json.error.details['config.smtp_host']);
  });

  test('the first channel starts the outbox in a thread of its own at the lowest priority; the API thread keeps its own (Linux)', async (t) => {
    const niceOf = (tid: string) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    };
    if (!existsSync('/proc/self/task')) {
      t.skip('no /proc here');
      return;
    }
    // The thread starts with the first channel and lowers itself once it has loaded (from source,
    // seconds on a busy machine).
    const first = await channel({ name: 'first', kind: 'webhook', events: ['run_failed'], config: { url: hook.url }, secret: SECRET });
    await waitFor(async () => readdirSync('/proc/self/task').some((tid) => niceOf(tid) === 19), 30000, 'a thread at niceness 19');
    assert.ok(niceOf(String(process.pid)) < 19, 'the API thread is not lowered');
    // The thread stays; the channel goes, so later tests' runs are not sent to it.
    await h.request('DELETE', `/api/notification-channels/${first.id}/`, as());
  });

  test('webhook: failed, then fixed and succeeded, each signed with the channel secret; the secret is never shown; audited', async () => {
    const made = await channel({
      name: 'hook',
      kind: 'webhook',
      events: ['run_failed', 'run_fixed', 'run_succeeded'],
      config: { url: `${hook.url}/ci` },
      secret: SECRET,
    });
    assert.equal(made.secret_set, true);
    assert.ok(!('secret' in made));
    const read = await h.request('GET', `/api/notification-channels/${made.id}/`, as());
    assert.ok(!read.text.includes(SECRET));
    const id = await pipeline('flaky', 'exit 3');
    const failed = await run(id);
    assert.equal((await finished(failed)).status, 'failed');
    const first = await waitFor(async () => hook.received.find((r) => JSON.parse(r.body).run?.id === failed), 10000, 'the failure to be delivered');
    assert.equal(first.path, '/ci');
    assert.equal(first.headers['x-ansflow-event'], 'run_failed');
    assert.ok(verifySignature(first.body, SECRET, first.headers['x-ansflow-signature-256'] as string), 'signed with the secret');
    assert.ok(!verifySignature(first.body, 'another secret', first.headers['x-ansflow-signature-256'] as string));
    const body = JSON.parse(first.body);
    assert.equal(body.event, 'run_failed');
    assert.equal(body.pipeline.name, 'flaky');
    assert.equal(body.run.status, 'failed');
    assert.match(body.run.url, new RegExp(`/runs/${failed}$`));
    assert.match(body.summary, /flaky #1 failed on/);

    await setCommand(id, 'true');
    const fixed = await run(id);
    await finished(fixed);
    const events = await waitFor(
      async () => {
        const got = hook.received.map((r) => JSON.parse(r.body)).filter((b) => b.run?.id === fixed);
        return got.length === 2 ? got.map((b) => b.event).sort() : false;
      },
      10000,
      'fixed and succeeded',
    );
    assert.deepEqual(events, ['run_fixed', 'run_succeeded']);
    const again = await run(id);
    await finished(again);
    await waitFor(async () => hook.received.some((r) => JSON.parse(r.body).run?.id === again), 10000, 'the next success');
    assert.deepEqual(
      hook.received
        .map((r) => JSON.parse(r.body))
        .filter((b) => b.run?.id === again)
        .map((b) => b.event),
      ['run_succeeded'],
      'fixed only once',
    );

    // The receiver has answered; the sender (in its own thread) settles each row right after.
    const log = await waitFor(
      async () => {
        const rows = await deliveries(made.id);
        return rows.length === 4 && rows.every((d: { outcome: string }) => d.outcome !== 'pending') ? rows : false;
      },
      10000,
      'the four settled',
    );
    for (const d of log) {
      assert.equal(d.outcome, 'delivered');
      assert.equal(d.attempt_log.length, 1);
      assert.equal(d.attempt_log[0].status_code, 200);
      assert.equal(d.attempt_log[0].answer, 'ok, thanks');
    }
    const audit = (await h.request('GET', `/api/audit-events/?target_type=notification_channel&target_id=${made.id}`, as())).json.results;
    const created = audit.find((e: { action: string }) => e.action === 'notification_channel.create');
    assert.ok(created, JSON.stringify(audit));
    assert.equal(created.diff.secret.after, '******');
    assert.ok(!JSON.stringify(audit).includes(SECRET));

    // A replace without a secret keeps it; one for a single other pipeline hears nothing of this one.
    const other = await pipeline('other', 'true');
    const put = await h.request('PUT', `/api/notification-channels/${made.id}/`, {
      ...as(),
      body: { name: 'hook', kind: 'webhook', events: ['run_succeeded'], pipelines: [other], config: { url: `${hook.url}/ci` } },
    });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.json.secret_set, true);
    const before = hook.received.length;
    await finished(await run(id));
    const otherRun = await run(other);
    await finished(otherRun);
    const got = await waitFor(async () => hook.received.slice(before).find((r) => JSON.parse(r.body).run?.id === otherRun), 10000, 'the other pipeline');
    assert.ok(verifySignature(got.body, SECRET, got.headers['x-ansflow-signature-256'] as string), 'the kept secret still signs');
    assert.equal(hook.received.slice(before).filter((r) => JSON.parse(r.body).pipeline?.name === 'flaky').length, 0);
    assert.equal((await h.request('DELETE', `/api/notification-channels/${made.id}/`, as())).status, 204);
  });

  test('a 500 is retried with backoff until the receiver takes it; each attempt is in the log with its answer', async () => {
    const flaky = await receiver((_r, n) => (n === 1 ? 500 : 200));
    try {
      const made = await channel({ name: 'retry', kind: 'webhook', events: ['run_succeeded'], config: { url: flaky.url }, secret: SECRET });
      const id = await pipeline('retried', 'true');
      await finished(await run(id));
      const d = await waitFor(
        async () => {
          const [row] = await deliveries(made.id);
          return row?.outcome === 'delivered' ? row : false;
        },
        15000,
        'the retried delivery',
      );
      assert.equal(d.attempts, 2);
      assert.deepEqual(
        d.attempt_log.map((a: { result: string; status_code: number }) => [a.result, a.status_code]),
        [
          ['retry', 500],
          ['delivered', 200],
        ],
      );
      assert.equal(d.attempt_log[0].answer, 'receiver is down');
      assert.equal(flaky.received.length, 2);
      assert.equal(flaky.received[0]!.body, flaky.received[1]!.body, 'the same body, the same signature');
      await h.request('DELETE', `/api/notification-channels/${made.id}/`, as());
    } finally {
      await flaky.close();
    }
  });

  test('slack: the incoming-webhook format, for "send test" and for an approval request; its URL is write-only', async () => {
    const slack = await receiver();
    try {
      const url = `${slack.url}/services/T0/B0/secret-part`;
      const made = await channel({ name: 'slack', kind: 'slack', events: ['approval_requested'], secret: url });
      assert.ok(!JSON.stringify(made).includes('secret-part'));
      const sent = await h.request('POST', `/api/notification-channels/${made.id}/test/`, as());
      assert.equal(sent.status, 200, sent.text);
      assert.equal(sent.json.outcome, 'delivered');
      assert.equal(sent.json.attempt_log[0].status_code, 200);
      const test = JSON.parse(slack.received[0]!.body);
      assert.equal(slack.received[0]!.path, '/services/T0/B0/secret-part');
      assert.match(test.text, /Test notification for channel slack/);
      assert.equal(test.blocks[0].type, 'section');

      assert.equal((await h.request('POST', '/api/environments/', { ...as(), body: { name: 'prod', required_approvals: 1 } })).status, 201);
      const id = await pipeline('deploy', 'echo deploying', 'prod');
      const waiting = await run(id);
      const message = await waitFor(
        async () => slack.received.map((r) => JSON.parse(r.body)).find((b) => /waiting for approval/.test(b.text)),
        10000,
        'the request',
      );
      assert.match(message.text, new RegExp(`<http[^|]+/runs/${waiting}\\|deploy #1 is waiting for approval to deploy to prod`));
      await h.request('POST', `/api/pipeline-runs/${waiting}/cancel/`, as());
    } finally {
      await slack.close();
    }
  });

  test('email: the message reaches a real SMTP server, logged in with the write-only password', async () => {
    const mails: Array<{ from: string; to: string[]; data: string; user: string | undefined }> = [];
    const smtp = new SMTPServer({
      secure: false,
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      onAuth(auth, _session, callback) {
        if (auth.username === 'ci' && auth.password === 'smtp-pass-1') callback(null, { user: 'ci' });
        else callback(new Error('Invalid username or password'));
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            data: Buffer.concat(chunks).toString('utf8'),
            user: session.user as string | undefined,
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const port = (smtp.server.address() as AddressInfo).port;
    try {
      const made = await channel({
        name: 'mail',
        kind: 'email',
        events: ['run_failed'],
        config: {
          smtp_host: '127.0.0.1',
          smtp_port: port,
          smtp_security: 'none',
          smtp_username: 'ci',
          from: 'ci@example.com',
          to: ['dev@example.com', 'ops@example.com'],
        },
        secret: 'smtp-pass-1',
      });
      assert.ok(!JSON.stringify(made).includes('smtp-pass-1'));
      const id = await pipeline('mailed', 'exit 1');
      const failed = await run(id);
      await finished(failed);
      const mail = await waitFor(async () => mails[0], 10000, 'the mail');
      assert.equal(mail.from, 'ci@example.com');
      assert.deepEqual(mail.to, ['dev@example.com', 'ops@example.com']);
      assert.equal(mail.user, 'ci');
      assert.match(mail.data, /Subject: \[AnsFlow\] mailed #1 failed on/);
      assert.match(mail.data, new RegExp(`/runs/${failed}`));
      const [d] = await waitFor(async () => ((await deliveries(made.id))[0]?.outcome === 'delivered' ? deliveries(made.id) : false), 5000, 'delivered');
      assert.equal(d.attempt_log[0].status_code, 250);

      // A wrong password is final: no retry.
      const wrong = await h.request('PUT', `/api/notification-channels/${made.id}/`, {
        ...as(),
        body: {
          ...made,
          id: undefined,
          project_id: undefined,
          secret_set: undefined,
          created_by: undefined,
          created_at: undefined,
          updated_at: undefined,
          secret: 'wrong',
        },
      });
      assert.equal(wrong.status, 200, wrong.text);
      const sent = await h.request('POST', `/api/notification-channels/${made.id}/test/`, as());
      assert.equal(sent.json.outcome, 'failed', sent.text);
      assert.match(sent.json.attempt_log[0].answer, /Invalid username or password|authentication/i);
    } finally {
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    }
  });

  test('an SMTP server that accepts and never answers is a recorded failure within the time bound, retried, then given up', async () => {
    const sockets = new Set<Socket>();
    const silent: TcpServer = createTcpServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const made = await channel({
        name: 'silent',
        kind: 'email',
        events: ['run_failed'],
        config: {
          smtp_host: '127.0.0.1',
          smtp_port: (silent.address() as AddressInfo).port,
          smtp_security: 'none',
          from: 'ci@example.com',
          to: ['dev@example.com'],
        },
      });
      const sent = await h.request('POST', `/api/notification-channels/${made.id}/test/`, as());
      assert.equal(sent.status, 200, sent.text);
      assert.equal(sent.json.attempt_log.length, 1);
      assert.equal(sent.json.attempt_log[0].result, 'retry');
      assert.equal(sent.json.attempt_log[0].status_code, null);
      assert.match(sent.json.attempt_log[0].answer, /timeout|no answer|timed out/i);
      assert.equal(sent.json.outcome, 'pending', 'to be retried');
      const given = await waitFor(
        async () => {
          const [row] = await deliveries(made.id);
          return row?.outcome === 'failed' ? row : false;
        },
        20000,
        'the delivery to be given up',
      );
      assert.equal(given.attempts, 3);
      assert.match(given.last_error, /gave up after 3 attempts/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  test("a channel's pipelines: another project's or an unknown id is a 400 naming it; one deleted since is dropped on a replace", async () => {
    const kept = await pipeline('kept', 'true');
    const gone = await pipeline('gone', 'true');
    const body = { name: 'some', kind: 'webhook', events: ['run_failed'], config: { url: hook.url }, secret: SECRET, pipelines: [gone, kept] };
    const unknown = await h.request('POST', '/api/notification-channels/', { ...as(), body: { ...body, pipelines: [kept, 999999] } });
    assert.equal(unknown.status, 400);
    assert.match(unknown.json.error.details['pipelines[1]'][0], /no pipeline 999999/);
    const made = await channel(body);
    assert.equal((await h.request('DELETE', `/api/pipelines/${gone}/`, as())).status, 204);
    const put = await h.request('PUT', `/api/notification-channels/${made.id}/`, { ...as(), body: { ...body, secret: undefined } });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.json.pipelines, [kept]);
    await h.request('DELETE', `/api/notification-channels/${made.id}/`, as());
  });

  test('a run whose event was lost (every process down when it ended) is written by the sweep, once', async () => {
    const made = await channel({ name: 'sweep', kind: 'webhook', events: ['run_succeeded'], config: { url: hook.url }, secret: SECRET });
    const id = await pipeline('swept', 'true');
    const runId = await run(id);
    await finished(runId);
    await waitFor(async () => (await deliveries(made.id)).length === 1, 10000, 'the live delivery');
    // As if nobody had heard the run end: no delivery, no mark.
    await h.ctx.db.kysely.deleteFrom('notification_deliveries').where('channel_id', '=', made.id).execute();
    await h.ctx.db.kysely.updateTable('pipeline_runs').set({ notified: null }).where('id', '=', runId).execute();
    const sweeper = new NotificationOutbox({
      notifications: notificationsOf(h.ctx).repository,
      transaction: transactor(h.ctx.db.kysely),
      events: h.ctx.events,
      logger: h.ctx.logger,
      publicUrl: 'http://sweeper.example',
      timing: { sweepMs: 0 },
    });
    await sweeper.tick();
    await sweeper.tick();
    await sweeper.stop();
    const [d, ...more] = await deliveries(made.id);
    assert.equal(more.length, 0, 'written once');
    assert.equal(d.run_id, runId);
    assert.equal(d.event, 'run_succeeded');
    assert.equal(d.payload.run.url, `http://sweeper.example/runs/${runId}`);
    await h.request('DELETE', `/api/notification-channels/${made.id}/`, as());
  });

  test('two outboxes on one database (two API processes) send each delivery once', async () => {
    const counted = await receiver();
    const parts = notificationsOf(h.ctx);
    const second = new NotificationOutbox({
      notifications: parts.repository,
      transaction: transactor(h.ctx.db.kysely),
      events: h.ctx.events,
      logger: h.ctx.logger,
      publicUrl: 'http://second.example',
      timing: { timeoutMs: 1500, maxAttempts: 3, retryBaseMs: 200, pollMs: 50 },
    });
    second.start();
    try {
      const made = await channel({ name: 'twice', kind: 'webhook', events: ['run_succeeded'], config: { url: counted.url }, secret: SECRET });
      const id = await pipeline('many', 'true');
      const runs: number[] = [];
      for (let i = 0; i < 8; i++) runs.push(await run(id));
      for (const r of runs) await finished(r);
      await waitFor(async () => counted.received.length >= runs.length, 15000, 'every run delivered');
      await new Promise((r) => setTimeout(r, 500));
      const ids = counted.received.map((r) => JSON.parse(r.body).delivery as number);
      assert.equal(ids.length, runs.length, 'one request per delivery');
      assert.equal(new Set(ids).size, runs.length);
      for (const d of await deliveries(made.id)) assert.equal(d.attempts, 1);
    } finally {
      await second.stop();
      await counted.close();
    }
  });
});

describe('notifications on PostgreSQL, three API processes', () => {
  test('run events are written once and every delivery is sent once, whichever of three outboxes claims it', async () => {
    const pg = await createTestDatabase();
    if (!pg) return;
    const counted = await receiver();
    let h: Harness | null = null;
    const others: AppContext[] = [];
    const loops: Array<{ stop(): Promise<void> }> = [];
    try {
      h = await startApi({ databaseUrl: pg.url, notifications: { timeoutMs: 1500, maxAttempts: 3, retryBaseMs: 200 } });
      for (let i = 0; i < 2; i++) {
        const config = loadConfig({
          NODE_ENV: 'test',
          ANSFLOW_DATA_DIR: h.dataDir,
          ANSFLOW_DATABASE_URL: pg.url,
          ANSFLOW_API_PORT: '0',
          ANSFLOW_GATEWAY_PORT: '0',
        });
        const ctx = await createContext(config, createLogger('warn'));
        others.push(ctx);
        loops.push(notificationsOf(ctx).start(`http://process-${i}.example`));
      }
      const token = await h.login();
      const made = await h.request('POST', '/api/notification-channels/', {
        token,
        body: { name: 'pg', kind: 'webhook', events: ['run_succeeded', 'run_failed'], config: { url: counted.url }, secret: 'pg-secret' },
      });
      assert.equal(made.status, 201, made.text);
      const p = await h.request('POST', '/api/pipelines/', {
        token,
        body: { name: 'pg-runs', steps: [{ name: 's', type: 'shell_command', config: { command: 'true' } }] },
      });
      const runs: number[] = [];
      for (let i = 0; i < 5; i++) runs.push((await h.request('POST', `/api/pipelines/${p.json.id}/run/`, { token, body: {} })).json.id);
      // And a backlog written straight into the outbox, for the three to share.
      const repo = notificationsOf(h.ctx).repository;
      const at = new Date().toISOString();
      const payload = {
        event: 'test' as const,
        occurred_at: at,
        project: { id: 1, name: 'default' },
        pipeline: null,
        run: null,
        environment: null,
        summary: 'backlog',
      };
      for (let i = 0; i < 40; i++) await repo.enqueue({ channelId: made.json.id, runId: null, event: 'test', occurrence: `pg:${i}`, payload, at });
      for (const o of others) notificationsOf(o).wake();
      await waitFor(async () => counted.received.length >= 45, 30000, 'every delivery');
      // Every row settled (the senders' threads run at the lowest priority: on a busy machine that
      // can take a while after the answers), and then no late second request.
      const settled = async () =>
        Number(
          (
            await h!.ctx.db.kysely
              .selectFrom('notification_deliveries')
              .select((eb) => eb.fn.countAll().as('n'))
              .where('outcome', '=', 'pending')
              .executeTakeFirstOrThrow()
          ).n,
        ) === 0;
      await waitFor(settled, 30000, 'every delivery settled');
      await new Promise((r) => setTimeout(r, 500));
      const ids = counted.received.map((r) => JSON.parse(r.body).delivery as number);
      assert.equal(ids.length, 45, 'one request per delivery');
      assert.equal(new Set(ids).size, 45);
      const events = counted.received.map((r) => JSON.parse(r.body)).filter((b) => b.event === 'run_succeeded');
      assert.deepEqual(events.map((b) => b.run.id).sort(), [...runs].sort(), 'each run once');
      for (const r of counted.received) assert.ok(verifySignature(r.body, 'pg-secret', r.headers['x-ansflow-signature-256'] as string));
      const attempts = await h.ctx.db.kysely.selectFrom('notification_deliveries').select(['attempts', 'outcome']).execute();
      assert.ok(
        attempts.every((a) => a.attempts === 1 && a.outcome === 'delivered'),
        JSON.stringify(attempts),
      );
    } finally {
      for (const l of loops) await l.stop();
      for (const o of others) await o.close();
      await h?.close();
      await counted.close();
      await pg.drop();
    }
  });
});
