/**
 * The per-pipeline limit across worker processes: one Redis sorted set per pipeline whose members
 * are the runs holding a slot, scored by when the slot expires. Acquire is one Lua script (drop
 * expired members, then take a slot if fewer than `limit` are held), so two processes can never
 * both take the last slot. A slot whose holder died expires after the lease unless renewed, and
 * the Redis clock (TIME) is the only clock involved, so skew between machines does not matter.
 */
import type { Redis } from 'ioredis';

const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
  return 1
end
return 0
`;

const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return n
`;

export class PipelineSlots {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly leaseMs: number,
  ) {}

  private key(pipelineId: number | null): string {
    return `${this.prefix}:pipeline-slots:${pipelineId ?? 'none'}`;
  }

  async acquire(pipelineId: number | null, runId: number, limit: number): Promise<boolean> {
    return (await this.redis.eval(ACQUIRE, 1, this.key(pipelineId), String(runId), limit, this.leaseMs)) === 1;
  }

  async renew(pipelineId: number | null, runId: number): Promise<void> {
    await this.redis.eval(RENEW, 1, this.key(pipelineId), String(runId), this.leaseMs);
  }

  async release(pipelineId: number | null, runId: number): Promise<void> {
    await this.redis.zrem(this.key(pipelineId), String(runId));
  }
}
