import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channelBody, channelTarget, emptyChannelForm, formFromChannel } from './channel-form';
import type { Channel } from '../api/notifications';

test('a new webhook needs its secret; an edit keeps the stored one when left empty', () => {
  const form = { ...emptyChannelForm(3), name: 'ops', url: 'https://hooks.example/ci' };
  assert.deepEqual(channelBody(form, false).errors, { secret: ['A signing secret.'] });
  const { body, errors } = channelBody({ ...form, secret: 's3cret' }, false);
  assert.deepEqual(errors, {});
  assert.deepEqual(body, {
    name: 'ops',
    kind: 'webhook',
    events: ['run_failed', 'run_fixed'],
    pipelines: null,
    enabled: true,
    config: { url: 'https://hooks.example/ci' },
    project: 3,
    secret: 's3cret',
  });
  assert.equal('secret' in channelBody(form, true).body, false);
});

test('email: recipients and pipelines as lists, the port checked; a channel is shown without its secret', () => {
  const form = {
    ...emptyChannelForm(),
    name: 'mail',
    kind: 'email' as const,
    smtpHost: 'smtp.example',
    smtpPort: '99999',
    to: 'a@x.io, b@x.io',
    from: 'ci@x.io',
    pipelines: '4, 5',
  };
  assert.deepEqual(channelBody(form, false).errors, { 'config.smtp_port': ['A port (1-65535).'] });
  const { body } = channelBody({ ...form, smtpPort: '2525' }, false);
  assert.deepEqual(body.config, { smtp_host: 'smtp.example', smtp_port: 2525, smtp_security: 'starttls', from: 'ci@x.io', to: ['a@x.io', 'b@x.io'] });
  assert.deepEqual(body.pipelines, [4, 5]);
  const channel: Channel = {
    id: 1,
    project_id: 1,
    name: 'mail',
    kind: 'email',
    config: body.config,
    secret_set: true,
    events: ['run_failed'],
    pipelines: [4, 5],
    enabled: true,
    created_by: null,
    created_at: '',
    updated_at: '',
  };
  assert.equal(channelTarget(channel), 'a@x.io, b@x.io via smtp.example:2525');
  assert.equal(formFromChannel(channel).secret, '');
  assert.equal(formFromChannel(channel).pipelines, '4, 5');
});
