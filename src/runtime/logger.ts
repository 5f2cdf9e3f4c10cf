import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel } from '../config.js';

export interface LoggerOptions {
  /** Readable lines instead of JSON; default: when stdout is a terminal (a person reads it). */
  pretty?: boolean;
  /** Where lines go (tests); default stdout. */
  destination?: DestinationStream;
}

/**
 * JSON lines on stdout for machines (a pipe, a file, a log collector), readable lines on a
 * terminal (pino-pretty in this thread, synchronously, so a line is never cut by the next
 * console.log). Tokens and secrets are redacted wherever they might appear.
 */
export function createLogger(level: LogLevel, options: LoggerOptions = {}): Logger {
  const readable = options.pretty ?? process.stdout.isTTY === true;
  const settings = {
    level,
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', '*.password', '*.token', '*.access', '*.refresh', 'password', 'token'],
      censor: '[redacted]',
    },
  };
  if (!readable) return options.destination ? pino(settings, options.destination) : pino(settings);
  const stream = pretty({
    sync: true,
    colorize: options.destination === undefined && process.stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname',
    singleLine: true,
    ...(options.destination ? { destination: options.destination } : {}),
  });
  return pino(settings, stream);
}

/** Whether this process writes readable lines (createLogger's default), for messages beside the log. */
export const readableOutput = () => process.stdout.isTTY === true;
