import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostLogLines } from './host-log';

const LOG = `
PLAY [all] *********************************************************************

TASK [host folder] *************************************************************
changed: [web1]
fatal: [ghost]: UNREACHABLE! => {"changed": false, "msg": "Failed to connect", "unreachable": true}
changed: [db1]

TASK [show the diff] ***********************************************************
--- before
+++ after
@@ -1 +1 @@
-a
+b
changed: [db1]
ok: [web1]

TASK [only db] *****************************************************************
skipping: [web1]
ok: [db1 -> localhost]

PLAY RECAP *********************************************************************
db1                        : ok=3    changed=2    unreachable=0    failed=0
ghost                      : ok=0    changed=0    unreachable=1    failed=0
web1                       : ok=2    changed=1    unreachable=0    failed=0
`.split('\n');

test("one host's lines under their headers; nothing of another host", () => {
  assert.deepEqual(hostLogLines(LOG, 'ghost'), [
    'TASK [host folder] *************************************************************',
    'fatal: [ghost]: UNREACHABLE! => {"changed": false, "msg": "Failed to connect", "unreachable": true}',
    'PLAY RECAP *********************************************************************',
    'ghost                      : ok=0    changed=0    unreachable=1    failed=0',
  ]);
  const db1 = hostLogLines(LOG, 'db1');
  assert.ok(db1.includes('ok: [db1 -> localhost]'));
  assert.ok(!db1.some((l) => l.includes('[web1]')));
  assert.equal(hostLogLines(LOG, 'db').length, 0, 'a prefix of a name is not the host');
});
