import { test } from 'node:test';
import assert from 'node:assert/strict';
import { platformToolEnv } from './platform-tool-env.js';

test('proxy, GIT_*, SSH_* and CA-bundle variables are removed in any case; everything else stays', () => {
  const removed = [
    'http_proxy',
    'https_proxy',
    'HTTP_PROXY',
    'HTTPS_PROXY',
    'ALL_PROXY',
    'all_proxy',
    'no_proxy',
    'NO_PROXY',
    'Http_Proxy',
    'hTTps_pROXY',
    'ftp_proxy',
    'GIT_SSH_COMMAND',
    'git_ssl_no_verify',
    'Git_Config_Global',
    'SSH_AUTH_SOCK',
    'ssh_askpass',
    'SSL_CERT_FILE',
    'ssl_cert_dir',
    'CURL_CA_BUNDLE',
  ];
  const kept = { PATH: '/usr/bin', HOME: '/h', ANSFLOW_RUN_ID: '1', DEPLOY_ENV: 'prod', PROXY: 'x', MY_PROXY_HOST: 'x', GITHUB_TOKEN: 't', SSHD: 'y' };
  const env = { ...kept, ...Object.fromEntries(removed.map((n) => [n, 'http://127.0.0.1:9'])) };
  assert.deepEqual(platformToolEnv(env), kept);
});
