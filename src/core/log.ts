import { redact } from './redact';

/**
 * Human log lines on stderr: one timestamped line per meaningful event, so a
 * Jenkins console reads like a story. Machine output goes to the output file.
 */

export type LogLevel = 'info' | 'warn' | 'error' | 'debug';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
  /** A logger whose lines carry an extra `[scope]`. */
  child(scope: string): Logger;
}

export type LogSink = (line: string) => void;

const defaultSink: LogSink = (line) => process.stderr.write(`${line}\n`);

/** Timestamp like `2026-11-26T05:40:01Z`: seconds are enough in a console. */
function timestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Creates a logger. `debug` lines show only when `BLUEGREEN_DEBUG` is set.
 * Multi-line messages are split so every line keeps its timestamp. Every
 * line is redacted (no credential from an input reaches a console).
 */
export function createLogger(scope: string, sink: LogSink = defaultSink): Logger {
  const debugOn = Boolean(process.env.BLUEGREEN_DEBUG);
  const write = (level: LogLevel, message: string): void => {
    if (level === 'debug' && !debugOn) return;
    const tag = level === 'info' ? '' : ` ${level.toUpperCase()}`;
    for (const line of redact(message).split('\n')) sink(`${timestamp()} [${scope}]${tag} ${line}`);
  };
  return {
    info: (m) => write('info', m),
    warn: (m) => write('warn', m),
    error: (m) => write('error', m),
    debug: (m) => write('debug', m),
    child: (sub) => createLogger(`${scope}:${sub}`, sink),
  };
}

/** A logger that drops everything (library use, tests). */
export const silentLogger: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
  child: () => silentLogger,
};
