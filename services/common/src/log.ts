// Structured logging: one JSON object per line on stderr (stdout stays free
// for program output), level from CHUNKMESH_LOG_LEVEL (default info).
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds these fields to every line. */
  child(fields: LogFields): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function isLogLevel(s: string): s is LogLevel {
  return Object.hasOwn(RANK, s);
}

export function levelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const raw = env.CHUNKMESH_LOG_LEVEL?.toLowerCase();
  return raw !== undefined && isLogLevel(raw) ? raw : 'info';
}

// JSON.stringify throws on bigint (chunk keys, epochs) and drops Error contents.
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; tests capture them here. */
  write?: (line: string) => void;
}

export function createLogger(fields: LogFields = {}, options: LoggerOptions = {}): Logger {
  const threshold = RANK[options.level ?? levelFromEnv()];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const make = (bound: LogFields): Logger => {
    const emit = (level: Exclude<LogLevel, 'silent'>) => (msg: string, extra?: LogFields) => {
      if (RANK[level] < threshold) return;
      write(
        `${JSON.stringify({ time: new Date().toISOString(), level, msg, ...bound, ...extra }, replacer)}\n`,
      );
    };
    return {
      debug: emit('debug'),
      info: emit('info'),
      warn: emit('warn'),
      error: emit('error'),
      child: (more) => make({ ...bound, ...more }),
    };
  };
  return make(fields);
}
