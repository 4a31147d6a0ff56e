// Flag parsing shared by the benchmark scripts: typed options with --help.
import { parseArgs } from 'node:util';

export interface FlagSpec {
  type: 'string' | 'boolean';
  default?: string | boolean;
  help: string;
}

export function parseFlags<T extends Record<string, FlagSpec>>(
  usage: string,
  specs: T,
): { [K in keyof T]: T[K]['type'] extends 'boolean' ? boolean : string } {
  const options = Object.fromEntries(
    Object.entries({ ...specs, help: { type: 'boolean', help: 'show this help' } } as Record<
      string,
      FlagSpec
    >).map(([k, s]) => [k, { type: s.type, ...(s.default !== undefined ? { default: s.default } : {}) }]),
  );
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ options: options as never, strict: true }).values as Record<string, unknown>;
  } catch (err) {
    console.error(`${(err as Error).message}\n`);
    printHelp(usage, specs);
    process.exit(2);
  }
  if (values.help) {
    printHelp(usage, specs);
    process.exit(0);
  }
  return values as never;
}

function printHelp(usage: string, specs: Record<string, FlagSpec>): void {
  console.log(`${usage}\n\nOptions:`);
  for (const [name, s] of Object.entries(specs)) {
    const def = s.default !== undefined && s.type !== 'boolean' ? ` (default: ${s.default})` : '';
    console.log(`  --${name}${s.type === 'string' ? ' VALUE' : ''}\n      ${s.help}${def}`);
  }
  console.log('  --help\n      show this help');
}

export function intList(flag: string, value: string): number[] {
  const out = value.split(',').map((s) => Number(s.trim()));
  if (out.some((n) => !Number.isInteger(n) || n < 0)) {
    console.error(`--${flag} must be a comma-separated list of non-negative integers, got '${value}'`);
    process.exit(2);
  }
  return out;
}
