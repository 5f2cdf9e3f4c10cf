import pino, { type Logger } from 'pino';
import type { LogLevel } from '../config.js';

/** JSON logs to stdout; tokens and secrets are redacted wherever they might appear. */
export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', '*.password', '*.token', '*.access', '*.refresh', 'password', 'token'],
      censor: '[redacted]',
    },
  });
}
