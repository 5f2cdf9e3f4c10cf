import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gatewayWsBase } from './gateway-feed.js';

test("a loopback gateway address is the API URL's host; another host is kept; https means wss", () => {
  assert.equal(gatewayWsBase('http://127.0.0.1:8000', 'http://127.0.0.1:8001'), 'ws://127.0.0.1:8001');
  assert.equal(gatewayWsBase('http://ci.example.com:8000', 'http://0.0.0.0:8001'), 'ws://ci.example.com:8001');
  assert.equal(gatewayWsBase('http://ci.example.com:8000', 'http://gw.example.com:9001/'), 'ws://gw.example.com:9001');
  assert.equal(gatewayWsBase('https://ci.example.com', 'https://ci.example.com/gateway/'), 'wss://ci.example.com:443/gateway');
  assert.equal(gatewayWsBase('https://ci.example.com', 'http://localhost:8001'), 'wss://ci.example.com:8001');
});
