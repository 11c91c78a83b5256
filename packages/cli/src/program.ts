/**
 * The `onnxkit` command line: the program, its global flags, usage errors and the
 * dispatcher. The commands are defined in definitions.ts; each command's implementation is
 * imported only when that command runs, so start-up stays small (`onnxkit inspect` must not load
 * onnxruntime). Options shared by several commands are defined once in options.ts.
 */
import { Argument, Command, CommanderError, Option, type CommandUnknownOpts, type OptionValues } from './commander.js';
import { CliError, EXIT, describeError } from './errors.js';
import { interruption } from './interrupt.js';
import { limits, parseBytes } from './limits.js';
import { definitions, example } from './definitions.js';
import { SHELLS, options } from './options.js';
import { terminalSafe } from './ui.js';
import { usageLine } from './usage.js';
import { version } from './version.js';

export interface CommandContext {
  /** Global flags. */
  color: boolean;
}



/** Options whose value names a file or folder (by commander's attribute name). */
const PATH_OPTIONS: ReadonlySet<string> = new Set(['output', 'out', 'netron', 'optimized', 'vs', 'calibration', 'eval', 'energyTable', 'inputs', 'externalData', 'device']);

/**
 * Refuses an empty argument or path option before any work — usually an unset shell variable
 * (`-o "$OUT"`): `optimize m.onnx -o ''` ran the whole job, then said the current folder 'is a
 * folder'; `analyze -o ''` said 'cannot rename the temporary file into place: the folder does not
 * exist'; `demo --out ''` wrote its five files into the current folder.
 */
function refuseEmptyPaths(cmd: CommandUnknownOpts, args: readonly unknown[], opts: OptionValues): void {
  const empty = (v: unknown): boolean => v === '' || (Array.isArray(v) && v.includes(''));
  const refuse = (what: string): never => {
    throw new CliError(`${what} is empty (is a shell variable unset?)`);
  };
  cmd.registeredArguments.forEach((a, i) => {
    if (empty(args[i])) refuse(`<${a.name()}>`);
  });
  for (const o of cmd.options) {
    if (PATH_OPTIONS.has(o.attributeName()) && empty(opts[o.attributeName()])) refuse(o.short ?? o.long ?? o.flags);
  }
}

/** Builds the program. `exit` receives the exit code of the command that ran. */
export function buildProgram(exit: (code: number) => void): Command {
  const program = new Command('onnxkit');
  program
    .description('Import, analyze, optimize and verify ONNX models. A model file given as - is read from stdin; -o - writes to stdout.')
    .version(version(), '-V, --version', 'print the onnxkit version')
    .option('--no-color', 'never colour the output (colour is off when NO_COLOR is set or stdout is not a terminal; FORCE_COLOR=1 forces it on when piped)')
    .option('--max-tensor-bytes <size>', 'refuse to read a tensor larger than this into memory (default 2GiB), e.g. 512MiB')
    .option('--max-folded-bytes <size>', 'largest tensor constant folding may create (default 16MiB)')
    .hook('preAction', (root) => {
      const o = root.opts() as { maxTensorBytes?: string; maxFoldedBytes?: string; color?: boolean };
      // --no-color beats FORCE_COLOR (outputMode reads the environment, commands do not see root flags).
      if (o.color === false) process.env.FORCE_COLOR = '0';
      if (o.maxTensorBytes !== undefined) limits.maxTensorBytes = parseBytes('--max-tensor-bytes', o.maxTensorBytes);
      // Input tensors (synthetic or from files) obey it too; @onnxkit/runtime reads it from here.
      if (limits.maxTensorBytes !== undefined) process.env.ONNXKIT_MAX_TENSOR_BYTES = String(limits.maxTensorBytes);
      if (o.maxFoldedBytes !== undefined) limits.maxFoldedBytes = parseBytes('--max-folded-bytes', o.maxFoldedBytes);
    })
    // Usage errors are printed by main() as one line (usage.ts): commander's own two or three
    // lines ("error: …", "(Did you mean …?)", a help pointer) are not written.
    .configureOutput({ outputError: () => {} })
    .exitOverride();

  /** Adds a command defined in definitions.ts, with the program's settings (exitOverride, output). */
  const add = <Args extends unknown[], Opts extends OptionValues>(cmd: Command<Args, Opts>): Command<Args, Opts> => {
    cmd.copyInheritedSettings(program);
    program.addCommand(cmd);
    return cmd;
  };

  /**
   * Runs a command module's default export with what commander parsed. The types tie the two:
   * the module's parameters must accept the arguments and options its definition produces
   * (inferred by @commander-js/extra-typings; the modules declare their options as that very
   * type, OptionsOf<'name'> of definitions.ts), so a flag renamed on one side fails typecheck.
   */
  const wire = <Args extends unknown[], Opts extends OptionValues>(
    cmd: Command<Args, Opts>,
    load: () => Promise<{ default: (...args: [...Args, Opts]) => Promise<number> }>,
  ): void => {
    cmd.action(async (...args) => {
      refuseEmptyPaths(cmd as unknown as CommandUnknownOpts, args.slice(0, -2), args.at(-2) as OptionValues);
      const mod = await load();
      // eslint-disable-next-line no-restricted-syntax -- commander passes a fixed handful of arguments
      exit(await mod.default(...(args.slice(0, -1) as [...Args, Opts])));
    });
  };

  wire(add(definitions.inspect()), () => import('./commands/inspect.js'));
  wire(add(definitions.convert()), () => import('./commands/convert.js'));
  wire(add(definitions.zoo()), () => import('./commands/zoo.js'));
  wire(add(definitions.analyze()), () => import('./commands/analyze.js'));
  wire(add(definitions.optimize()), () => import('./commands/optimize.js'));
  wire(add(definitions.passes()), () => import('./commands/passes.js'));
  wire(add(definitions.verify()), () => import('./commands/verify.js'));
  wire(add(definitions.quantize()), () => import('./commands/quantize.js'));
  wire(add(definitions.bench()), () => import('./commands/bench.js'));
  wire(add(definitions.run()), () => import('./commands/run.js'));
  wire(add(definitions.calibrate()), () => import('./commands/calibrate.js'));
  wire(add(definitions.report()), () => import('./commands/report.js'));
  wire(add(definitions.demo()), () => import('./commands/demo.js'));
  wire(add(definitions.batch()), () => import('./commands/batch.js'));
  wire(add(definitions.serve()), () => import('./commands/serve.js'));
  wire(add(definitions.app()), () => import('./commands/app.js'));

  // completion needs the program itself (its commands and options), so it is wired by hand.
  add(new Command('completion').addOption(options.quiet()))
    .description('print a shell completion script for bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .addHelpText('after', example(['onnxkit completion bash > ~/.local/share/bash-completion/completions/onnxkit', 'onnxkit completion zsh > "${fpath[1]}/_onnxkit"', 'onnxkit completion fish > ~/.config/fish/completions/onnxkit.fish']))
    .action(async (shell: (typeof SHELLS)[number]) => {
      const mod = await import('./completion.js');
      process.stdout.write(mod.completionScript(program, shell));
      exit(EXIT.ok);
    });

  return program;
}

// The parsers moved to options.ts (one home for option definitions); re-exported for API users.
export { intOption, numberOption, parseDimValues, parseInputShapes } from './options.js';

export { Option };

/** Runs the CLI on argv and resolves to the exit code. Never throws, never prints a stack trace. */
export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram((c) => {
    code = c;
  });
  // The command whose arguments commander is parsing, for a usage error's line.
  let parsing: CommandUnknownOpts = program;
  program.hook('preSubcommand', (_root, sub) => {
    parsing = sub;
  });
  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      process.stderr.write(`onnxkit: ${terminalSafe(usageLine(e, parsing), { keepNewlines: false })}\n`);
      return EXIT.badInput;
    }
    if (interruption.requested) return EXIT.interrupted;
    const { line, exitCode } = describeError(e);
    process.stderr.write(`onnxkit: ${line}\n`);
    if (process.env.ONNXKIT_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    return exitCode;
  }
}
