// Flags of a chunkmesh subcommand, from the shared option tables: the parsed
// config, or undefined once --help has been printed.
import { type Config, type OptionTable, type ProgramInfo, parseConfig } from '@chunkmesh/common';

export function parseCommand<T extends OptionTable>(
  table: T,
  info: ProgramInfo,
  argv: string[],
): Config<T> | undefined {
  const parsed = parseConfig(table, info, argv, process.env);
  if ('help' in parsed) {
    process.stdout.write(parsed.help);
    return undefined;
  }
  return parsed.config;
}
