import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isMetadataHost } from './metadata-address.js';

test('169.254.169.254 is recognised in every spelling a resolver accepts', () => {
  for (const host of [
    '169.254.169.254',
    '2852039166',
    '0xa9fea9fe',
    '0XA9FEA9FE',
    '0xA9.0xFE.0xA9.0xFE',
    '0251.0376.0251.0376',
    '169.254.43518',
    '169.254.169.254.',
    '[::ffff:169.254.169.254]',
    '[::ffff:a9fe:a9fe]',
    '[0:0:0:0:0:ffff:a9fe:a9fe]',
    '[::169.254.169.254]',
    '[64:ff9b::169.254.169.254]',
  ])
    assert.equal(isMetadataHost(host), true, host);
});

test('metadata names (any case, trailing dot), AWS IPv6, Alibaba and link-local ranges are recognised', () => {
  for (const host of [
    'metadata.google.internal',
    'METADATA.Google.Internal.',
    'metadata.google.internal..',
    'metadata',
    'instance-data.ec2.internal',
    '[fd00:ec2::254]',
    '[FD00:EC2:0:0:0:0:0:254]',
    '100.100.100.200',
    '169.254.0.1',
    '169.254.255.255',
    '[fe80::1]',
    '[febf::1]',
  ])
    assert.equal(isMetadataHost(host), true, host);
});

test('ordinary hosts and addresses are not metadata addresses', () => {
  for (const host of [
    'github.com',
    'metadata.example.com',
    'google.internal',
    '127.0.0.1',
    '10.0.0.1',
    '169.253.169.254',
    '169.255.0.1',
    '[::1]',
    '[2001:db8::a9fe:a9fe]',
    '[fec0::1]',
    '',
    'a b',
  ])
    assert.equal(isMetadataHost(host), false, host);
});
