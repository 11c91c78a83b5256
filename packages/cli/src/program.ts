/**
 * The `onnxkit` command line: command definitions, help texts with examples, and the
 * dispatcher. Each command's implementation is imported only when that command runs, so
 * start-up stays small (`onnxkit inspect` must not load onnxruntime).
 */
import { Command, CommanderError, Option } from 'commander';
import { CliError, EXIT, describeError } from './errors.js';
import { interruption } from './interrupt.js';
import { limits, parseBytes } from './limits.js';
import { version } from './version.js';

export interface CommandContext {
  /** Global flags. */
  color: boolean;
}

// A command module's default export; its parameters are what commander passes for that command.
type Action = (...args: never[]) => Promise<number>;

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** Builds the program. `exit` receives the exit code of the command that ran. */
export function buildProgram(exit: (code: number) => void): Command {
  const program = new Command('onnxkit');
  program
    .description('Import, analyze, optimize and verify ONNX models.')
    .version(version(), '-V, --version', 'print the onnxkit version')
    .option('--no-color', 'never colour the output (colour is also off when NO_COLOR is set or stdout is not a terminal)')
    .option('--max-tensor-bytes <size>', 'refuse to read a tensor larger than this into memory (default 2GiB), e.g. 512MiB')
    .option('--max-folded-bytes <size>', 'largest tensor constant folding may create (default 16MiB)')
    .hook('preAction', (root) => {
      const o = root.opts<{ maxTensorBytes?: string; maxFoldedBytes?: string }>();
      if (o.maxTensorBytes !== undefined) limits.maxTensorBytes = parseBytes('--max-tensor-bytes', o.maxTensorBytes);
      if (o.maxFoldedBytes !== undefined) limits.maxFoldedBytes = parseBytes('--max-folded-bytes', o.maxFoldedBytes);
    })
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      outputError: (str, write) => write(`onnxkit: ${str.replace(/^error: /, '').trim()}\n`),
    })
    .exitOverride();

  const wire = (cmd: Command, load: () => Promise<{ default: Action }>): Command =>
    cmd.action(async (...args: unknown[]) => {
      const mod = await load();
      exit(await (mod.default as (...a: unknown[]) => Promise<number>)(...args.slice(0, -1)));
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

  wire(
    program
      .command('analyze')
      .description("per-layer and total #params, model size, activations, MACs/FLOPs, peak memory and roofline latency (MIT EfficientML.ai lecture 2)")
      .argument('<model>', 'ONNX file')
      .option('--json', 'machine-readable output (totals and layers[])')
      .option('--csv', 'one CSV row per layer')
      .option('--markdown', 'a Markdown table')
      .option('--input-shape <name=dims>', 'pin input dims, e.g. input=1x3x224x224 (repeatable)', collect)
      .option('--dim <symbol=n>', 'bind a symbolic dim wherever the inputs use it, e.g. N=1 (repeatable)', collect)
      .option('--device <name>', 'roofline device: jetson-agx-orin, raspberry-pi-4, h100-sxm, local (see calibrate) or a profile .json', 'jetson-agx-orin')
      .option('--bits <n>', 'bit width for the model size (#params × bits) and bytes moved, e.g. 8')
      .option('--netron [file]', "write Netron's metrics attachment (default <model>.json)")
      .option('-o, --output <file>', 'write the table/JSON/CSV/Markdown to a file instead of stdout')
      .option('--all', 'also list constant layers (shape computations done once at load)')
      .addHelpText('after', example(['onnxkit analyze alexnet.onnx', 'onnxkit analyze model.onnx --device raspberry-pi-4 --bits 8', 'onnxkit analyze bert.onnx --input-shape input_ids=1x128 --json', 'onnxkit analyze dynamic-batch.onnx --dim N=8'])),
    () => import('./commands/analyze.js'),
  );

  wire(
    program
      .command('optimize')
      .description('rewrite a model for deployment (BN folding, constant folding, cleanup, fusions, …), verified after every pass')
      .argument('<input>', 'ONNX file to read (never modified unless --in-place)')
      .option('-o, --output <file>', 'ONNX file to write (atomically)')
      .option('--preset <name>', 'default (exact passes) or edge (default + fp16 weights)')
      .option('--passes <a,b,…>', 'run these passes (or presets) instead of a preset')
      .option('--disable <a,b,…>', 'skip these passes')
      .option('--explain', 'print, per pass, what changed and why candidates were declined')
      .option('--rank <r>', 'run decouple-conv with depthwise multiplier R (approximate below k_h·k_w)')
      .option('--max-error <e>', 'decoupling: decline layers whose relative weight error exceeds E')
      .option('--verify-each <when>', 'run verify() after each pass or change: off, pass, change', 'pass')
      .option('--stop-after <n>', 'stop after N changes (to bisect a bad rewrite)')
      .option('--no-ort-fold', 'fold constants with the TypeScript kernels only (no onnxruntime evaluator)')
      .option('--input-shape <name=dims>', 'pin input dims for shape inference (repeatable)', collect)
      .option('--external-data', 'store weights in <output>.data')
      .option('--in-place', 'allow replacing the input file')
      .option('--json', 'machine-readable output')
      .addHelpText('after', example(['onnxkit optimize resnet50.onnx -o resnet50.opt.onnx', 'onnxkit optimize model.onnx -o out.onnx --explain', 'onnxkit optimize vgg16.onnx -o vgg16.dw.onnx --passes decouple-conv --rank 2 --max-error 0.3'])),
    () => import('./commands/optimize.js'),
  );

  wire(
    program
      .command('passes')
      .description('list the rewrite passes and presets')
      .option('--json', 'machine-readable output')
      .addHelpText('after', example(['onnxkit passes'])),
    () => import('./commands/passes.js'),
  );

  wire(
    program
      .command('verify')
      .description('check that two models compute the same outputs in onnxruntime (exit 0 equivalent, 1 not, 2 bad input)')
      .argument('<a>', 'reference model')
      .argument('<b>', 'candidate model (e.g. the optimized one)')
      .option('--atol <x>', 'absolute tolerance (fp32 default 1e-5; an element fails only if it exceeds both atol and rtol)')
      .option('--rtol <y>', 'relative tolerance (fp32 default 1e-4)')
      .option('--tolerance <name=atol:rtol>', 'per-output tolerance override (repeatable)', collect)
      .option('--inputs <files...>', 'input data: .npy, .npz, ONNX TensorProto .pb, .json (NAME=FILE names a single tensor)')
      .option('--seed <n>', 'seed of the synthetic inputs', '0')
      .option('--input-shape <name=dims>', 'bind symbolic input dims, e.g. input=1x3x224x224 (repeatable)', collect)
      .option('--bisect', 'when outputs differ, find the first intermediate value that diverges')
      .option('--no-reference', 'judge with the fixed tolerance only, without the float64 reference')
      .option('--max-error <x>', 'accept B when every element is within this absolute error of float64 ("within the requested budget")')
      .option('--min-sqnr <dB>', "accept B only when each output's SQNR against float64 is at least this many dB")
      .option('--bench [iterations]', 'also time both models, interleaved')
      .option('--threads <n>', 'onnxruntime intra-op threads', '1')
      .option('--json', 'machine-readable output')
      .addHelpText('after', example(['onnxkit verify model.onnx model.opt.onnx', 'onnxkit verify model.onnx model.fp16.onnx --max-error 1e-2', 'onnxkit verify a.onnx b.onnx --bisect --json', 'onnxkit verify a.onnx b.onnx --inputs test_data_set_0/input_0.pb --atol 1e-4'])),
    () => import('./commands/verify.js'),
  );

  wire(
    program
      .command('bench')
      .description('latency percentiles and throughput in onnxruntime; --vs compares two models interleaved')
      .argument('<model>', 'ONNX file')
      .option('--vs <other>', 'a second model, timed interleaved with the first (A B A B …)')
      .option('--iterations <n>', 'timed runs', '50')
      .option('--warmup <n>', 'untimed runs first', '5')
      .option('--threads <n>', 'onnxruntime intra-op threads', '1')
      .option('--batch <b>', 'batch size (binds a symbolic batch dim)')
      .option('--profile', "record onnxruntime's per-node profile and put it next to the roofline estimate")
      .option('--device <name>', 'device profile for the roofline estimate (with --profile)', 'local')
      .option('--ort-opt <level>', 'onnxruntime graph optimization level: disabled, basic, extended, all', 'all')
      .option('--input-shape <name=dims>', 'bind symbolic input dims (repeatable)', collect)
      .option('--seed <n>', 'seed of the synthetic inputs', '0')
      .option('--json', 'machine-readable output')
      .addHelpText('after', example(['onnxkit bench model.onnx --iterations 100', 'onnxkit bench model.onnx --vs model.opt.onnx', 'onnxkit bench model.onnx --profile --device local'])),
    () => import('./commands/bench.js'),
  );

  wire(
    program
      .command('run')
      .description('run a model once in onnxruntime and show (or save) its outputs')
      .argument('<model>', 'ONNX file')
      .option('--inputs <files...>', 'input data: .npy, .npz, .pb, .json (default: seeded synthetic inputs)')
      .option('-o, --output <file.npz>', 'save the outputs as .npz')
      .option('--seed <n>', 'seed of the synthetic inputs', '0')
      .option('--input-shape <name=dims>', 'bind symbolic input dims (repeatable)', collect)
      .option('--threads <n>', 'onnxruntime intra-op threads', '1')
      .option('--ort-opt <level>', 'onnxruntime graph optimization level', 'disabled')
      .option('--json', 'machine-readable output')
      .addHelpText('after', example(['onnxkit run model.onnx', 'onnxkit run model.onnx --inputs input.npy -o outputs.npz'])),
    () => import('./commands/run.js'),
  );

  wire(
    program
      .command('calibrate')
      .description("measure this machine's peak FP32 FLOP/s and memory bandwidth (the 'local' device of the roofline)")
      .option('--threads <n>', 'onnxruntime intra-op threads for the MatMul', '1')
      .option('-o, --output <file>', 'where to save the profile (default: your config folder, used by --device local)')
      .option('--json', 'machine-readable output')
      .addHelpText('after', example(['onnxkit calibrate', 'onnxkit analyze model.onnx --device local'])),
    () => import('./commands/calibrate.js'),
  );

  wire(
    program
      .command('report')
      .description('a self-contained HTML report: per-layer charts, roofline, memory timeline, sortable table, before/after')
      .argument('<model>', 'ONNX file')
      .requiredOption('-o, --output <file.html>', 'HTML file to write (atomically)')
      .option('--optimize [passes]', 'also optimize a copy (default preset, or a pass/preset list) and compare')
      .option('--optimized <other>', 'compare against an already optimized model')
      .option('--device <name>', 'roofline device (jetson-agx-orin, raspberry-pi-4, h100-sxm, local, or a .json)', 'jetson-agx-orin')
      .option('--input-shape <name=dims>', 'pin input dims (repeatable)', collect)
      .option('--no-verify', 'do not verify the second model in onnxruntime')
      .option('--bench [iterations]', 'interleaved timed pairs for the before/after latency (default 30)')
      .option('--no-bench', 'do not benchmark')
      .option('--threads <n>', 'onnxruntime intra-op threads', '1')
      .option('--seed <n>', 'seed of the synthetic inputs', '0')
      .option('--json', 'machine-readable output')
      .addHelpText('after', example(['onnxkit report resnet50.onnx -o resnet50.html', 'onnxkit report model.onnx --optimize -o report.html', 'onnxkit report model.onnx --optimized model.opt.onnx -o compare.html'])),
    () => import('./commands/report.js'),
  );

  wire(
    program
      .command('demo')
      .description('the main job: import → analyze → optimize → verify → benchmark → report, on MODEL or the embedded MobileNetV2')
      .argument('[model]', 'ONNX file (default: the zoo MobileNetV2 with BatchNorm kept, written to out/)')
      .option('--out <dir>', 'output folder', 'out')
      .option('--device <name>', 'roofline device (default: this machine, calibrated once)')
      .option('--preset <name>', 'optimization preset', 'default')
      .option('--iterations <n>', 'interleaved timed pairs per benchmark', '30')
      .option('--threads <n>', 'onnxruntime intra-op threads', '1')
      .option('--seed <n>', 'seed of the synthetic inputs', '0')
      .option('--input-shape <name=dims>', 'pin input dims (repeatable)', collect)
      .option('--json', 'machine-readable summary')
      .addHelpText('after', example(['onnxkit demo', 'onnxkit demo resnet50.onnx --out out/resnet50'])),
    () => import('./commands/demo.js'),
  );

  wire(
    program
      .command('batch')
      .description('analyze (and optionally optimize + verify) every .onnx in a folder on worker threads; one summary table')
      .argument('<dir>', 'folder searched recursively for .onnx files')
      .option('-o, --output <file>', 'summary table: .json, .csv or .html')
      .option('--optimize [passes]', 'also optimize each model (default preset, or a pass/preset list)')
      .option('--verify', 'verify each optimized model against its original in onnxruntime')
      .option('--jobs <n>', 'worker threads (default: up to 4, by CPU count)')
      .option('--device <name>', 'roofline device', 'jetson-agx-orin')
      .option('--json', 'machine-readable output')
      .addHelpText('after', example(['onnxkit batch models/ -o summary.csv', 'onnxkit batch zoo/ --optimize --verify -o regression.html'])),
    () => import('./commands/batch.js'),
  );

  wire(
    program
      .command('serve')
      .description('the browser app on 127.0.0.1: drop a model, analyze, optimize — computed in the page, nothing uploaded')
      .argument('[model]', 'ONNX file the page opens on load')
      .option('--port <n>', 'TCP port (0: any free port)', '8080')
      .option('--open', 'launch a browser on the URL')
      .addHelpText('after', example(['onnxkit serve', 'onnxkit serve resnet50.onnx --port 9000 --open'])),
    () => import('./commands/serve.js'),
  );

  wire(
    program
      .command('app')
      .description('build the browser app into a static folder that any web server can host')
      .requiredOption('-o, --output <dir>', 'folder to write (emptied first)')
      .addHelpText('after', example(['onnxkit app -o site/'])),
    () => import('./commands/app.js'),
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

/** Parses `--dim SYMBOL=N` (repeatable) into a record. */
export function parseDimValues(specs: string[] | undefined): Record<string, number> | undefined {
  if (!specs || specs.length === 0) return undefined;
  const out: Record<string, number> = {};
  for (const spec of specs) {
    const m = /^([A-Za-z_][\w.:-]*)=(\d+)$/.exec(spec);
    if (!m) throw new CliError(`--dim '${spec}' is not SYMBOL=N`, { hint: 'for example --dim N=1 (N as the model names it: see onnxkit inspect)' });
    const [, sym, n] = m as unknown as [string, string, string];
    if (out[sym] !== undefined && out[sym] !== Number(n)) throw new CliError(`--dim binds '${sym}' to both ${out[sym]} and ${n}`);
    out[sym] = Number(n);
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
    if (interruption.requested) return EXIT.interrupted;
    const { line, exitCode } = describeError(e);
    process.stderr.write(`onnxkit: ${line}\n`);
    if (process.env.ONNXKIT_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    return exitCode;
  }
}
