import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveGateway } from './gateway-url';

describe('resolveGateway', () => {
  const page = { protocol: 'http:', hostname: '192.168.1.20' };

  it('uses the page host with the configured port when the gateway names a loopback host', () => {
    assert.deepEqual(resolveGateway('http://127.0.0.1:8001', page), { http: 'http://192.168.1.20:8001', ws: 'ws://192.168.1.20:8001' });
    assert.deepEqual(resolveGateway('http://localhost:9001/', page), { http: 'http://192.168.1.20:9001', ws: 'ws://192.168.1.20:9001' });
  });

  it('uses a named gateway host as it is', () => {
    assert.deepEqual(resolveGateway('http://gw.example.com:8001', page), { http: 'http://gw.example.com:8001', ws: 'ws://gw.example.com:8001' });
  });

  it('falls back to port 8001 on the page host', () => {
    assert.deepEqual(resolveGateway(null, page), { http: 'http://192.168.1.20:8001', ws: 'ws://192.168.1.20:8001' });
    assert.deepEqual(resolveGateway('not a url', page).ws, 'ws://192.168.1.20:8001');
  });

  it('uses secure schemes on an https page', () => {
    assert.deepEqual(resolveGateway('https://gw.example.com', { protocol: 'https:', hostname: 'ci.example.com' }), {
      http: 'https://gw.example.com:443',
      ws: 'wss://gw.example.com:443',
    });
  });
});
