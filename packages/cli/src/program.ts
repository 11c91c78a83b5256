/**
 * The `onnxkit` command line: command definitions, help texts with examples, and the
 * dispatcher. Each command's implementation is imported only when that command runs, so
 * start-up stays small (`onnxkit inspect` must not load onnxruntime).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { CliError, EXIT, describeError } from './errors.js';

export interface CommandContext {
  /** Global flags. */
  color: boolean;
}

type Action = (...args: unknown[]) => Promise<number>;

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

/** Builds the program. `exit` receives the exit code of the command that ran. */
export function buildProgram(exit: (code: number) => void): Command {
  const program = new Command('onnxkit');
  program
    .description('Import, analyze, optimize and verify ONNX models.')
    .version(version(), '-V, --version', 'print the onnxkit version')
    .option('--no-color', 'never colour the output (colour is also off when NO_COLOR is set or stdout is not a terminal)')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      outputError: (str, write) => write(`onnxkit: ${str.replace(/^error: /, '').trim()}\n`),
    })
    .exitOverride();

  const wire = (cmd: Command, load: () => Promise<{ default: Action }>): Command =>
    cmd.action(async (...args: unknown[]) => {
      const mod = await load();
      exit(await mod.default(...args.slice(0, -1)));
    });

  const example = (lines: string[]): string => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

  wire(
    program
      .command('inspect')
      .description('show IR version, producer, opsets, inputs/outputs, op histogram, initializers and external data')
      .argument('<model>', 'ONNX file')
      .option('--json', 'machine-readable output')
      .addHelpText('after', example(['onnxkit inspect resnet50.onnx', 'onnxkit inspect vgg16.onnx --json | jq .opHistogram'])),
    () => import('./commands/inspect.js'),
  );

  wire(
    program
      .command('convert')
      .description('re-encode a model, optionally moving weights to an external data file')
      .argument('<input>', 'ONNX file to read')
      .requiredOption('-o, --output <file>', 'ONNX file to write (atomically)')
      .option('--external-data [location]', 'write tensors ≥ --size-threshold bytes to an external file (default <output>.data)')
      .option('--size-threshold <bytes>', 'smallest tensor moved to external data', '1024')
      .option('--in-place', 'allow the output to replace the input file')
      .option('--json', 'machine-readable output')
      .addHelpText('after', example(['onnxkit convert big.onnx -o out/big.onnx --external-data', 'onnxkit convert model.onnx -o model.inline.onnx'])),
    () => import('./commands/convert.js'),
  );

  wire(
    program
      .command('zoo')
      .description('write a reference model of the lecture (alexnet, vgg16, resnet50, mobilenetv2, transformer)')
      .argument('[name]', 'model name; omit to list them')
      .option('-o, --output <file>', 'ONNX file to write')
      .option('--batch <n>', "batch size, or a symbol such as 'N' for a dynamic batch", '1')
      .option('--seed <n>', 'seed of the deterministic weights', '0')
      .option('--opset <n>', 'default-domain opset version')
      .option('--external-data', 'store weights in <output>.data')
      .option('--json', 'machine-readable output')
      .addHelpText('after', example(['onnxkit zoo', 'onnxkit zoo resnet50 -o out/resnet50.onnx', "onnxkit zoo mobilenetv2 --batch N -o out/mbv2.onnx"])),
    () => import('./commands/zoo.js'),
  );

  return program;
}

/** Parses `--input-shape NAME=1x3x224x224` (repeatable) into a record. */
export function parseInputShapes(specs: string[] | undefined): Record<string, (number | string)[]> | undefined {
  if (!specs || specs.length === 0) return undefined;
  const out: Record<string, (number | string)[]> = {};
  for (const spec of specs) {
    const eq = spec.lastIndexOf('=');
    if (eq <= 0) throw new CliError(`--input-shape '${spec}' is not NAME=DIMS`, { hint: 'for example --input-shape input=1x3x224x224' });
    const name = spec.slice(0, eq);
    const dims = spec.slice(eq + 1).split(/[x×,]/).filter((d) => d !== '');
    out[name] = dims.map((d) => {
      if (/^\d+$/.test(d)) return Number(d);
      if (/^[A-Za-z_][\w]*$/.test(d)) return d;
      throw new CliError(`--input-shape '${spec}': '${d}' is neither a size nor a symbol`, { hint: 'dimensions are positive integers separated by x' });
    });
  }
  return out;
}

/** A positive integer option, or a usage error naming the flag. */
export function intOption(flag: string, value: string | undefined, { min = 0 }: { min?: number } = {}): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value) || Number(value) < min) throw new CliError(`${flag} expects an integer ≥ ${min}, got '${value}'`);
  return Number(value);
}

export function numberOption(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || value.trim() === '') throw new CliError(`${flag} expects a number, got '${value}'`);
  return n;
}

export { collect, Option };

/** Runs the CLI on argv and resolves to the exit code. Never throws, never prints a stack trace. */
export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      return EXIT.badInput;
    }
    const { line, exitCode } = describeError(e);
    process.stderr.write(`onnxkit: ${line}\n`);
    if (process.env.ONNXKIT_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    return exitCode;
  }
}
