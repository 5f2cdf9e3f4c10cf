import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gitUrlCredentialProblem, gitUrlProblem, redactGitUrl, GIT_URL_CREDENTIAL_MESSAGE } from './git-url.js';

const remote = { allowLocal: false };

test('ordinary repository URLs are accepted', () => {
  for (const url of [
    'https://github.com/o/r.git',
    'http://git.example.com:8080/o/r',
    'ssh://git@github.com/o/r.git',
    'ssh://git@[2001:db8::1]:2222/o/r.git',
    'git://127.0.0.1:9418/r.git',
    'git@github.com:o/r.git',
    'gitlab.example.com:group/r.git',
    'https://xn--bcher-kva.example/r.git',
    'https://bücher.example/r.git',
  ])
    assert.equal(gitUrlProblem(url, remote), null, url);
});

test('hosts with shell metacharacters or other characters no host name has are refused', () => {
  for (const url of [
    'https://a`id`b/r.git',
    'https://a$(id)b/r.git',
    'https://a${IFS}b/r.git',
    'ssh://a`id`/r.git',
    'ssh://h$(id)/r.git',
    'git://x${HOME}/r.git',
    'ssh://h%60id%60/r.git',
    "https://a'b/r.git",
    'https://a;b/r.git',
    'https://a&b/r.git',
    'https://a|b/r.git',
    'ssh://a!b/r.git',
    'https://a*b/r.git',
    'ssh://a(b/r.git',
  ])
    assert.match(gitUrlProblem(url, remote) ?? '', /host must be a DNS name|not a valid URL|not allowed/, url);
});

test('user names with shell metacharacters are refused', () => {
  for (const url of ['ssh://$(id)@host/r.git', 'ssh://a`b`@host/r.git', 'ssh://a;b@host/r.git']) assert.notEqual(gitUrlProblem(url, remote), null, url);
});

test('Windows drive paths are never read as an scp host', () => {
  for (const url of ['C:\\Windows', 'C:/Windows', 'c:foo', 'D:\\repo.git', 'c:/x/y.git', 'https://host/a\\b.git'])
    assert.notEqual(gitUrlProblem(url, remote), null, url);
  assert.match(gitUrlProblem('C:/Windows', remote)!, /Windows drive/);
  assert.match(gitUrlProblem('c:foo', remote)!, /Windows drive/);
});

test('CR, LF and NUL are refused raw and percent-encoded, in any case and anywhere', () => {
  for (const url of [
    'https://host/r.git%0d',
    'https://host/r.git%0A',
    'https://host/r%00.git',
    'https://ho%0ast/r.git',
    'https://host/r.git?x=%0D%0A',
    'https://us%0aer@host/r.git',
    'ssh://git@host/r%0a.git',
    'git@host:r%0A.git',
    'https://host/r.git\r\n',
    'https://host/r\u0000.git',
    'https://host/r%7f.git',
  ])
    assert.notEqual(gitUrlProblem(url, remote), null, url);
});

test('cloud metadata addresses are refused in every spelling unless the operator allows them', () => {
  const spellings = [
    '169.254.169.254',
    '2852039166',
    '0xa9fea9fe',
    '0xA9.0xFE.0xA9.0xFE',
    '0251.0376.0251.0376',
    '169.254.43518',
    '169.254.169.254.',
    '[::ffff:169.254.169.254]',
    '[::ffff:a9fe:a9fe]',
    'metadata.google.internal',
    'METADATA.GOOGLE.INTERNAL.',
    '[fd00:ec2::254]',
    '169.254.1.2',
  ];
  for (const host of spellings) {
    for (const url of [`http://${host}/latest/meta-data.git`, `https://${host}/r.git`, `ssh://git@${host}/r.git`, `git://${host}/r.git`]) {
      assert.match(gitUrlProblem(url, remote) ?? '', /metadata/, url);
      assert.equal(gitUrlProblem(url, { allowLocal: false, allowMetadataAddresses: true }), null, `${url} allowed by the operator`);
    }
  }
  for (const host of ['169.254.169.254', '2852039166', '0xa9fea9fe', '0251.0376.0251.0376', 'metadata.google.internal', 'metadata.google.internal.'])
    assert.match(gitUrlProblem(`git@${host}:r.git`, remote) ?? '', /metadata/, host);
});

test('URLs that carry a password or token cannot be saved; ssh user names can', () => {
  for (const url of ['https://user:pass@host/r.git', 'https://token@host/r.git', 'http://u:p@host/r', 'ssh://git:secret@host/r.git', 'https://:pw@host/r.git'])
    assert.equal(gitUrlCredentialProblem(url), GIT_URL_CREDENTIAL_MESSAGE, url);
  for (const url of ['ssh://git@host/r.git', 'git@host:r.git', 'https://host/r.git', 'git://host/r.git']) assert.equal(gitUrlCredentialProblem(url), null, url);
  assert.match(GIT_URL_CREDENTIAL_MESSAGE, /credential: <name>/);
});

test('redaction hides the userinfo of http(s) URLs and the password of others', () => {
  assert.equal(redactGitUrl('https://user:s3cret@host/r.git'), 'https://***@host/r.git');
  assert.equal(redactGitUrl('https://ghp_token@host/r.git'), 'https://***@host/r.git');
  assert.equal(redactGitUrl('HTTP://u:p@w@host/r.git'), 'HTTP://***@host/r.git');
  assert.equal(redactGitUrl('ssh://git@host/r.git'), 'ssh://git@host/r.git');
  assert.equal(redactGitUrl('ssh://git:pw@host/r.git'), 'ssh://git:***@host/r.git');
  assert.equal(redactGitUrl('git@host:r.git'), 'git@host:r.git');
  assert.equal(redactGitUrl('https://host/a@b.git'), 'https://host/a@b.git');
});
