// Configuration from flags and environment, declared once per service as a
// table: each option's flag (--kebab-case of its key), environment variable
// (CHUNKMESH_UPPER_SNAKE of its key), type, default and help come from one
// entry, so --help, parsing and validation cannot drift apart.
// Precedence: flag, then environment, then default.
import { parseArgs } from 'node:util';

export type OptionType = 'string' | 'integer' | 'number' | 'boolean';

export interface OptionSpec {
  type: OptionType;
  help: string;
  /** Omitted: the option is undefined unless given. */
  default?: string | number | boolean;
  /** Allowed values of a string option. */
  choices?: readonly string[];
  /** Lower bound of a numeric option. */
  min?: number;
  /** Upper bound of a numeric option. */
  max?: number;
}

export type OptionTable = Record<string, OptionSpec>;

type ValueOf<S extends OptionSpec> = S extends { choices: readonly (infer C)[] }
  ? C
  : S['type'] extends 'string'
    ? string
    : S['type'] extends 'boolean'
      ? boolean
      : number;

export type Config<T extends OptionTable> = {
  [K in keyof T]: T[K] extends { default: unknown } ? ValueOf<T[K]> : ValueOf<T[K]> | undefined;
};

export type ParseResult<T extends OptionTable> = { help: string } | { config: Config<T> };

export interface ProgramInfo {
  /** Command name shown in usage lines. */
  program: string;
  /** One paragraph under the usage line. */
  summary: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Keeps the table's literal types (choices, presence of defaults) for Config<T>. */
export function defineOptions<const T extends OptionTable>(table: T): T {
  return table;
}

export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export function envName(key: string): string {
  return `CHUNKMESH_${flagName(key).replaceAll('-', '_').toUpperCase()}`;
}

function convert(key: string, spec: OptionSpec, raw: string, source: string): string | number | boolean {
  const bad = (expected: string) =>
    new ConfigError(`${source}: expected ${expected}, got ${JSON.stringify(raw)} (--${flagName(key)})`);
  switch (spec.type) {
    case 'string':
      if (spec.choices && !spec.choices.includes(raw)) throw bad(`one of ${spec.choices.join(', ')}`);
      return raw;
    case 'boolean': {
      const v = raw.toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      throw bad('true or false');
    }
    case 'integer':
    case 'number': {
      const n = raw.trim() === '' ? Number.NaN : Number(raw);
      const ok = spec.type === 'integer' ? Number.isSafeInteger(n) : Number.isFinite(n);
      if (!ok) throw bad(spec.type === 'integer' ? 'an integer' : 'a number');
      if (spec.min !== undefined && n < spec.min) throw bad(`a value >= ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) throw bad(`a value <= ${spec.max}`);
      return n;
    }
  }
}

export function helpText(table: OptionTable, info: ProgramInfo): string {
  const lines = [`Usage: ${info.program} [options]`, '', info.summary, '', 'Options:'];
  for (const [key, spec] of Object.entries(table)) {
    const flag = flagName(key);
    const value = spec.choices ? spec.choices.join('|') : spec.type;
    lines.push(spec.type === 'boolean' ? `  --[no-]${flag}` : `  --${flag} <${value}>`);
    const facts = [`env ${envName(key)}`];
    if (spec.default !== undefined) facts.push(`default ${JSON.stringify(spec.default)}`);
    if (spec.min !== undefined) facts.push(`min ${spec.min}`);
    if (spec.max !== undefined) facts.push(`max ${spec.max}`);
    lines.push(`      ${spec.help} (${facts.join(', ')})`);
  }
  lines.push('  -h, --help', '      Show this help and exit.');
  return `${lines.join('\n')}\n`;
}

export function parseConfig<T extends OptionTable>(
  table: T,
  info: ProgramInfo,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): ParseResult<T> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [key, spec] of Object.entries(table)) {
    const flag = flagName(key);
    options[flag] = { type: spec.type === 'boolean' ? 'boolean' : 'string' };
    if (spec.type === 'boolean') options[`no-${flag}`] = { type: 'boolean' };
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}; see --help`);
  }
  if (values.help) return { help: helpText(table, info) };

  const config: Record<string, string | number | boolean | undefined> = {};
  for (const [key, spec] of Object.entries(table)) {
    const flag = flagName(key);
    const given = values[flag];
    const negated = values[`no-${flag}`];
    if (given !== undefined && negated !== undefined) {
      throw new ConfigError(`--${flag} and --no-${flag} contradict each other`);
    }
    const envValue = env[envName(key)];
    if (typeof given === 'string') config[key] = convert(key, spec, given, `--${flag}`);
    else if (given !== undefined || negated !== undefined) config[key] = given === true;
    else if (envValue !== undefined && envValue !== '')
      config[key] = convert(key, spec, envValue, envName(key));
    else config[key] = spec.default;
  }
  return { config: config as Config<T> };
}

/**
 * For a service's main: runs a step of its configuration (reading the flags, checking that
 * they go together, loading the files they name) and returns its result, or prints the
 * ConfigError it throws and exits 2; any other error propagates.
 */
export function configOrExit<R>(program: string, step: () => R): R {
  try {
    return step();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${program}: ${err.message}\n`);
    process.exit(2);
  }
}

/** For a service's main: prints --help and exits 0, or prints the error and exits 2. */
export function loadConfig<T extends OptionTable>(table: T, info: ProgramInfo): Config<T> {
  const result = configOrExit(info.program, () =>
    parseConfig(table, info, process.argv.slice(2), process.env),
  );
  if ('config' in result) return result.config;
  process.stdout.write(result.help);
  process.exit(0);
}
