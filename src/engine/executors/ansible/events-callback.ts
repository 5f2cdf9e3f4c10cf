/**
 * The callback plugin that turns a playbook run into structured events (domain/ansible-events.ts),
 * kept here as text and written into the step's private folder for each run: it then reaches the
 * sandbox with the step, whatever the build copies, and nothing of it is shared between runs.
 *
 * It is a *notification* callback (`ANSIBLE_CALLBACKS_ENABLED=ansflow_events`), so Ansible's own
 * stdout callback still prints the log as before. It writes one JSON object a line to the file
 * named by ANSFLOW_ANSIBLE_EVENTS and flushes each line, so the engine reads them as they happen.
 *
 * Results: ok / changed from v2_runner_on_ok; failed, or `ignored` (ignore_errors), or `rescued`
 * (the task's block has a rescue); unreachable from v2_runner_on_unreachable, with ssh's reason;
 * skipped. `no_log` results arrive already censored by Ansible.
 */
export const EVENTS_CALLBACK_NAME = 'ansflow_events';

export const EVENTS_CALLBACK_SOURCE = String.raw`# Written by AnsFlow for this step only (see engine/executors/ansible/events-callback.ts).
from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
    name: ansflow_events
    type: notification
    short_description: per-host results as JSON lines for AnsFlow
    description: Writes plays, tasks, per-host results and the recap to ANSFLOW_ANSIBLE_EVENTS.
'''

MAX_MESSAGE = 2000


def _now():
    return datetime.now(timezone.utc).isoformat(timespec='milliseconds').replace('+00:00', 'Z')


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'notification'
    CALLBACK_NAME = 'ansflow_events'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        path = os.environ.get('ANSFLOW_ANSIBLE_EVENTS')
        self._out = open(path, 'a', encoding='utf-8') if path else None
        self._seq = 0
        self._play = ''
        self._started = {}

    def _emit(self, event):
        if self._out is None:
            return
        self._seq += 1
        event['seq'] = self._seq
        event['at'] = _now()
        self._out.write(json.dumps(event, default=str) + '\n')
        self._out.flush()

    def v2_playbook_on_play_start(self, play):
        self._play = str(play._uuid)
        self._emit({'kind': 'play', 'play': {'id': self._play, 'name': play.get_name().strip()}})

    def _task(self, task, handler):
        self._emit({'kind': 'task', 'play_id': self._play,
                    'task': {'id': str(task._uuid), 'name': task.get_name().strip(), 'action': task.action, 'handler': handler}})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task(task, False)

    def v2_playbook_on_handler_task_start(self, task):
        self._task(task, True)

    def v2_runner_on_start(self, host, task):
        self._started[(host.get_name(), str(task._uuid))] = time.monotonic()

    def _result(self, result, status, message=None):
        host = result._host.get_name()
        task_id = str(result._task._uuid)
        started = self._started.pop((host, task_id), None)
        duration = None if started is None else (time.monotonic() - started) * 1000
        if message is not None:
            message = str(message)[:MAX_MESSAGE]
        self._emit({'kind': 'host', 'task_id': task_id, 'host': host, 'status': status,
                    'duration_ms': duration, 'message': message})

    @staticmethod
    def _message(result):
        r = result._result
        for key in ('msg', 'stderr', 'reason'):
            value = r.get(key)
            if value:
                return value
        return None

    def v2_runner_on_ok(self, result):
        self._result(result, 'changed' if result._result.get('changed', False) else 'ok', result._result.get('msg') or None)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if ignore_errors:
            status = 'ignored'
        else:
            parent = getattr(result._task, '_parent', None)
            status = 'rescued' if getattr(parent, 'rescue', None) else 'failed'
        self._result(result, status, self._message(result))

    def v2_runner_on_unreachable(self, result):
        self._result(result, 'unreachable', self._message(result))

    def v2_runner_on_skipped(self, result):
        self._result(result, 'skipped', result._result.get('skip_reason') or None)

    def v2_playbook_on_stats(self, stats):
        for host in sorted(stats.processed.keys()):
            s = stats.summarize(host)
            self._emit({'kind': 'recap', 'host': host, 'counts': {
                'ok': s.get('ok', 0), 'changed': s.get('changed', 0), 'failed': s.get('failures', 0),
                'unreachable': s.get('unreachable', 0), 'skipped': s.get('skipped', 0),
                'rescued': s.get('rescued', 0), 'ignored': s.get('ignored', 0)}})
        if self._out is not None:
            self._out.close()
            self._out = None
`;
