/**
 * The `mmlab` command line as a `commander` program: one subcommand per
 * file in `commands/`, each registered with {@link defineCommand}. The
 * program never exits the process and never prints commander's own error
 * lines: a parse error becomes a {@link UsageError} (one line naming the
 * token, a "did you mean" when a known option or command is close, and the
 * command's usage line; exit code 2), help and `--version` print on
 * standard output (exit code 0).
 * @module
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { UsageError } from './errors.js';
import type { Io } from './io.js';
import { usageLine } from './usage.js';

/** What the commands of one invocation share. */
export interface CliContext {
  /** Output streams and working directory. */
  readonly io: Io;
  /** The exit code the command that ran returned (0 until one has run). */
  exitCode: number;
}

/** Width commander wraps help text at (fixed, so help is the same on every terminal and in tests). */
const HELP_WIDTH = 100;

/** Exit codes shown at the end of the main help. */
const EXIT_CODES =
  '\nExit codes: 0 success, 1 failure (violation, replay mismatch, workload or feature module error),\n' +
  '2 bad usage. MMLAB_DEBUG=1 shows the stack of an unexpected error.';

/**
 * The version `mmlab --version` prints: the CLI's and the core's package
 * versions.
 */
export function versionText(): string {
  const version = (file: () => string): string => {
    try {
      const v = (JSON.parse(readFileSync(file(), 'utf8')) as { version?: unknown }).version;
      return typeof v === 'string' ? v : '?';
    } catch {
      return '?';
    }
  };
  // src/ and dist/ both sit one level below the package folder.
  const cli = version(() => fileURLToPath(new URL('../package.json', import.meta.url)));
  const core = version(() => createRequire(import.meta.url).resolve('@mmlab/core/package.json'));
  return `mmlab ${cli} (@mmlab/core ${core}, model of Linux 2.6.24)`;
}

/**
 * Turns one of commander's error messages into the CLI's one-line style:
 * no `error:` prefix, the suggestion on the same line, and a missing option
 * value said as `option '--mem' needs a value (SIZE)`.
 * @param err - what commander threw
 */
export function commanderMessage(err: CommanderError): string {
  const missing = /^error: option '(?:-\w, )?(--[\w-]+) <([^>]+)>' argument missing/.exec(err.message);
  if (missing !== null) return `option '${missing[1] ?? ''}' needs a value (${missing[2] ?? 'VALUE'})`;
  return err.message
    .replace(/^error: /, '')
    .replace(/\n\(Did you mean (.*)\?\)$/s, (_, what: string) => ` (did you mean ${what.replace(/\n/g, ' ')}?)`)
    .split('\n', 1)[0]!;
}

/** Makes parse errors of `cmd` usage errors carrying its usage line; help and version pass through. */
function throwAsUsage(cmd: Command, usage: () => string): Command {
  return cmd.exitOverride((err) => {
    if (err.exitCode === 0) throw err;
    throw new UsageError(commanderMessage(err), usage());
  });
}

/**
 * The one-line usage of the command as a whole, listing its subcommands.
 * @param program - the root program, subcommands added
 */
export function mainUsage(program: Command): string {
  const names = [...program.commands.map((c) => c.name()), 'help'];
  return `usage: mmlab ${names.join('|')} ... (mmlab help for details)`;
}

/**
 * Creates the root `mmlab` program, writing to `ctx.io`. Subcommands are
 * added with {@link defineCommand}.
 * @param ctx - the invocation's streams; `exitCode` receives the commands' results
 */
export function createRoot(ctx: CliContext): Command {
  const program = new Command('mmlab')
    .description('run workloads on a model of the Linux 2.6.24 memory-management subsystem')
    .usage('<command> [options]')
    .configureOutput({
      writeOut: (text) => {
        ctx.io.stdout(text);
      },
      writeErr: (text) => {
        ctx.io.stderr(text);
      },
      outputError: () => {
        // errors are printed by reportError, in the CLI's style
      },
      getOutHelpWidth: () => HELP_WIDTH,
      getErrHelpWidth: () => HELP_WIDTH,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .showSuggestionAfterError(true)
    .version(versionText(), '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'print help (mmlab help COMMAND: a command\'s options)')
    .helpCommand('help [command]', 'print help for a command')
    .addHelpText('after', EXIT_CODES);
  return throwAsUsage(program, () => mainUsage(program));
}

/** Declaration of one subcommand. */
export interface CommandSpec {
  /** The word after `mmlab`. */
  readonly name: string;
  /** Its arguments and options as the usage line shows them (`--workload SPEC [--json] ...`). */
  readonly args: string;
  /** One line for the command list of `mmlab help`. */
  readonly summary: string;
  /** Paragraphs for `mmlab help NAME`. */
  readonly description: string;
}

/**
 * Adds a subcommand to the program. Its parse errors become usage errors
 * carrying its usage line; operands beyond those it declares are left to
 * the command (see {@link operands}).
 * @param program - the root program
 * @param spec - name, usage, summary and description
 * @returns the subcommand, to add options and an action to
 */
export function defineCommand(program: Command, spec: CommandSpec): Command {
  const cmd = program
    .command(spec.name)
    .usage(spec.args)
    .summary(spec.summary)
    .description(spec.description)
    .allowExcessArguments(true);
  const usage = usageLine(spec.name, spec.args);
  return throwAsUsage(cmd, () => usage);
}

/**
 * Parser of a single-valued option: refuses a second occurrence and a
 * value that is another option (`--workload --json`).
 * @param flag - the option as typed (`--workload`)
 * @param placeholder - what the value is (`SPEC`)
 * @param usage - the command's usage line, for errors
 */
export function single(flag: string, placeholder: string, usage: string): (value: string, previous: unknown) => string {
  return (value, previous) => {
    if (value.startsWith('--')) throw new UsageError(`option '${flag}' needs a value (${placeholder})`, usage);
    if (previous !== undefined) throw new UsageError(`option '${flag}' given twice`, usage);
    return value;
  };
}

/**
 * Parser of an option that may be given more than once: collects the
 * values in order.
 * @param flag - the option as typed (`--features`)
 * @param placeholder - what the value is
 * @param usage - the command's usage line, for errors
 */
export function multiple(
  flag: string,
  placeholder: string,
  usage: string
): (value: string, previous: string[] | undefined) => string[] {
  return (value, previous) => {
    if (value.startsWith('--')) throw new UsageError(`option '${flag}' needs a value (${placeholder})`, usage);
    return [...(previous ?? []), value];
  };
}

/**
 * The operands given to a command, refusing more than `max`.
 * @param cmd - the command (its `args` after parsing)
 * @param max - how many it takes
 * @param usage - the command's usage line, for errors
 */
export function operands(cmd: Command, max: number, usage: string): readonly string[] {
  const args = cmd.args;
  if (args.length > max) throw new UsageError(`unexpected argument '${args[max] ?? ''}'`, usage);
  return args;
}

/**
 * Whether `err` is commander's way of saying help or the version was
 * printed (exit code 0).
 * @param err - what parsing threw
 */
export function isHelpOrVersion(err: unknown): boolean {
  return err instanceof CommanderError && err.exitCode === 0;
}

/**
 * Adds `--out FILE` and `--force` to a command whose report may go to a
 * file (see `outputs.ts`).
 * @param cmd - the command
 * @param usage - its usage line, for errors
 * @param forceDoc - what `--force` replaces
 */
export function withOutputOptions(cmd: Command, usage: string, forceDoc = 'replace the --out file if it exists'): Command {
  return cmd
    .option('--out <FILE>', 'write the report to FILE (atomically) instead of standard output', single('--out', 'FILE', usage))
    .option('--force', forceDoc);
}
