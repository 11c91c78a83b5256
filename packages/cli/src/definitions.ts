/**
 * The command definitions: every command's arguments and options, help text and examples. Each
 * command module types its options as `OptionsOf<'name'>`, the type @commander-js/extra-typings
 * infers from the definition here — not a hand-written interface — so a flag renamed, retyped or
 * removed here fails typecheck in the command that reads it. program.ts adds these commands to
 * the program and loads a command's module only when it runs. Options shared by several commands
 * are defined once in options.ts.
 */
import { Command, Option, type OptionValues } from './commander.js';
import { DEVICE_DEFAULTS, EXPLAIN_MODES, ITERATIONS, PRESET_NAMES, VERIFY_EACH, batchArg, intArg, numberArg, options } from './options.js';

/** A command with the option every command has (--quiet); `--json` is added per command. */
const command = (name: string) => new Command(name).addOption(options.quiet());

/** The calibration flags of static int8 (quantize, optimize --preset edge, report --quantize, demo), declared in one order. */
const withCalibration = <Args extends unknown[], Opts extends OptionValues>(cmd: Command<Args, Opts>, help: string) =>
  cmd
    .addOption(options.calibration(help))
    .addOption(options.eval())
    .addOption(options.method())
    .addOption(options.percentile())
    .addOption(options.samples())
    .addOption(options.evalSamples())
    .addOption(options.activationType())
    .addOption(options.perTensor());

/** `--input-shape` and `--dim`, which every command that shapes or runs a model takes together. */
const withShapes = <Args extends unknown[], Opts extends OptionValues>(cmd: Command<Args, Opts>) => cmd.addOption(options.inputShape()).addOption(options.dim());

/**
 * The most worker threads `batch --jobs` starts: each holds ≈ 16 MB before its model (a folder of
 * 24 small models: 85 MB of RSS at --jobs 1, 465 MB at --jobs 24), so `--jobs 10000` on a large
 * folder ran the machine out of memory (the process killed by a signal) instead of being refused.
 */
export const MAX_BATCH_JOBS = 256;

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** The help's "Examples:" section. */
export const example = (lines: string[]): string => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

/** Each command's definition, by name (a fresh Command per call). */
export const definitions = {
  inspect: () =>
    command('inspect')
      .addOption(options.json())
      .description('show IR version, producer, opsets, inputs/outputs, op histogram, initializers and external data')
      .argument('<model>', 'ONNX file (- reads stdin)')
      .addHelpText('after', `\nA structurally invalid model (a cycle, a name defined twice, a read of a name nothing defines) is\nshown too, then one stderr line says why it is invalid (--json: "problems"); exit 1.\n${example(['onnxkit inspect resnet50.onnx', 'onnxkit inspect vgg16.onnx --json | jq .opHistogram', 'curl -sL https://…/model.onnx | onnxkit inspect -'])}`),
  convert: () =>
    command('convert')
      .addOption(options.json())
      .description('re-encode a model, optionally moving weights to an external data file')
      .argument('<input>', 'ONNX file to read (- reads stdin)')
      .addOption(options.requiredOutput('ONNX file to write, atomically (- writes stdout)'))
      .addOption(options.externalDataAt())
      .addOption(new Option('--size-threshold <bytes>', 'smallest tensor moved to external data').default(1024).argParser(intArg('--size-threshold')))
      .addOption(options.inPlace('allow the output to replace the input file'))
      .addHelpText('after', example(['onnxkit convert big.onnx -o out/big.onnx --external-data', 'onnxkit convert model.onnx -o model.inline.onnx'])),
  zoo: () =>
    command('zoo')
      .addOption(options.json())
      .description('write a reference model of the lecture (alexnet, vgg16, resnet50, mobilenetv2, transformer)')
      .argument('[name]', 'model name; omit to list them')
      .addOption(options.output('ONNX file to write (- writes stdout)'))
      .addOption(new Option('--batch <n>', "batch size, or a symbol such as 'N' for a dynamic batch").default(1 as number | string).argParser(batchArg))
      .addOption(options.seed('seed of the deterministic weights'))
      .addOption(new Option('--opset <n>', 'default-domain opset version').argParser(intArg('--opset', { min: 7 })))
      .addOption(options.externalData())
      .addHelpText('after', example(['onnxkit zoo', 'onnxkit zoo resnet50 -o out/resnet50.onnx', "onnxkit zoo mobilenetv2 --batch N -o out/mbv2.onnx"])),
  analyze: () =>
    withShapes(
      command('analyze')
        .addOption(options.json('machine-readable output (totals and layers[])'))
        .description("per-layer and total #params, model size, activations, MACs/FLOPs, peak memory and roofline latency (MIT EfficientML.ai lecture 2)")
        .argument('<model>', 'ONNX file (- reads stdin)')
        .option('--csv', 'one CSV row per layer')
        .option('--markdown', 'a Markdown table'),
    )
      .addOption(options.device())
      .addOption(new Option('--bits <n>', 'bit width for the model size (#params × bits) and bytes moved, 1 to 64, e.g. 8').argParser(intArg('--bits', { min: 1, max: 64 })))
      .addOption(new Option('--training-batch <n>', 'batch size of the training-memory estimate (default: the model batch, else 1)').argParser(intArg('--training-batch', { min: 1 })))
      .option('--energy-table <file>', 'per-operation energies (JSON: source, dramReadPj, sramReadPj, multPj, addPj; optional int8MultPj, int32AddPj, int8AddPj, int32MultPj for integer layers); default Horowitz ISSCC 2014, 45 nm')
      .option('--netron [file]', "write Netron's metrics attachment (default <model>.json)")
      .addOption(options.output('write the table/JSON/CSV/Markdown to a file instead of stdout'))
      .option('--all', 'also list constant layers (shape computations done once at load)')
      .addHelpText('after', example(['onnxkit analyze alexnet.onnx', 'onnxkit analyze model.onnx --device raspberry-pi-4 --bits 8', 'onnxkit analyze bert.onnx --input-shape input_ids:1,128 --json', 'onnxkit analyze dynamic-batch.onnx --dim N=8'])),
  optimize: () =>
    withShapes(
      withCalibration(
        command('optimize')
          .addOption(options.json())
          .description('rewrite a model for deployment (BN folding, constant folding, cleanup, fusions, …); every change validated before it is applied, the model verified after the passes')
          .argument('<input>', 'ONNX file to read, never modified unless --in-place (- reads stdin)')
          .argument('[output]', 'ONNX file to write, as onnxsim takes it (same as -o)')
          .addOption(options.output('ONNX file to write, atomically (- writes stdout)'))
          .addOption(options.preset('default (exact passes) or edge (the exact passes, then int8 with --calibration, else fp16 weights)')),
        'with --preset edge: quantize to static int8 (QDQ, as onnxkit quantize) calibrated on these inputs',
      )
        .option('--passes <a,b,…>', 'run these passes (or presets) instead of a preset')
        .option('--disable <a,b,…>', 'skip these passes')
        .addOption(new Option('--explain [what]', 'print, per pass, every change and the declined candidates grouped by reason; =changes for changes only').choices(EXPLAIN_MODES))
        // --rank, --max-error and --stop-after are parsed by pipeline.ts (shared with report, demo, batch).
        .option('--rank <r>', 'run decouple-conv with depthwise multiplier R (approximate below k_h·k_w)')
        .option('--max-error <e>', 'decoupling: decline layers whose relative weight error exceeds E')
        .addOption(new Option('--verify-each <when>', 'run verify() after each pass or change').choices(VERIFY_EACH).default('pass'))
        .option('--stop-after <n>', 'stop after N changes (to bisect a bad rewrite)')
        .option('--no-ort-fold', 'fold constants with the TypeScript kernels only (no onnxruntime evaluator)')
        .option('--no-accuracy', "skip measuring an approximate pass's output error against float64 (a few seconds)"),
    )
      .addOption(options.externalData())
      .addOption(options.inPlace('allow replacing the input file'))
      .addHelpText('after', example(['onnxkit optimize resnet50.onnx resnet50.opt.onnx', 'onnxkit optimize model.onnx -o out.onnx --explain=changes', 'onnxkit optimize - -o - < model.onnx > model.opt.onnx', 'onnxkit optimize vgg16.onnx -o vgg16.dw.onnx --passes decouple-conv --rank 2 --max-error 0.3', 'onnxkit optimize resnet50.onnx -o resnet50.int8.onnx --preset edge --calibration calib/ --explain'])),
  passes: () =>
    command('passes')
      .addOption(options.json()).description('list the rewrite passes and presets').addHelpText('after', example(['onnxkit passes'])),
  verify: () =>
    withShapes(
      command('verify')
        .addOption(options.json())
        .description('check that two models compute the same outputs in onnxruntime (exit 0 equivalent, 1 not, 2 bad input)')
        .argument('<a>', 'reference model (- reads stdin)')
        .argument('<b>', 'candidate model, e.g. the optimized one (- reads stdin)')
        .addOption(new Option('--atol <x>', 'absolute tolerance (fp32 default 1e-5; an element fails only if it exceeds both atol and rtol)').argParser(numberArg('--atol', { nonNegative: true })))
        .addOption(new Option('--rtol <y>', 'relative tolerance (fp32 default 1e-4)').argParser(numberArg('--rtol', { nonNegative: true })))
        .option('--tolerance <name=atol:rtol>', 'per-output tolerance override (repeatable)', collect)
        .addOption(options.inputs('input data: .npy, .npz, ONNX TensorProto .pb, .json (NAME=FILE names a single tensor)'))
        .addOption(options.seed()),
    )
      .option('--bisect', 'when outputs differ, find the first intermediate value that diverges')
      .option('--no-reference', 'judge with the fixed tolerance only, without the float64 reference')
      .addOption(new Option('--max-error <x>', 'accept B when every element is within this absolute error of float64 ("within the requested budget")').argParser(numberArg('--max-error', { nonNegative: true })))
      .addOption(options.minSqnr("accept B only when each output's SQNR against float64 is at least this many dB"))
      .addOption(options.bench(`also time both models, interleaved (${ITERATIONS.verifyBench} pairs unless given)`, 1))
      .addOption(options.threads())
      .addHelpText('after', example(['onnxkit verify model.onnx model.opt.onnx', 'onnxkit verify model.onnx model.fp16.onnx --max-error 1e-2', 'onnxkit verify a.onnx b.onnx --bisect --json', 'onnxkit verify a.onnx b.onnx --inputs test_data_set_0/input_0.pb --atol 1e-4'])),
  quantize: () =>
    withCalibration(
      command('quantize')
        .addOption(options.json())
        .description('static int8 quantization (QDQ, fused by onnxruntime): fold BatchNorm, calibrate, quantize, report SQNR per output and per layer')
        .argument('<input>', 'float32 ONNX model')
        .addOption(options.requiredOutput('quantized ONNX file to write, atomically')),
      'calibration inputs (default: seeded synthetic inputs)',
    )
      .addOption(options.seed())
      .option('--sensitivity', 'per-layer sensitivity: the output SQNR with only that layer quantized')
      .addOption(options.minSqnr('mixed precision: keep the most sensitive layers in float until the output SQNR reaches this'))
      .option('--dynamic', 'dynamic quantization of MatMul (int8 weights, activations quantized at run time; no calibration)')
      .addOption(options.threads())
      .addHelpText('after', example(['onnxkit quantize resnet50.onnx -o resnet50.int8.onnx --calibration calib/', 'onnxkit quantize model.onnx -o model.int8.onnx --method percentile --percentile 99.99', 'onnxkit quantize model.onnx -o model.int8.onnx --min-sqnr 30 --json'])),
  bench: () =>
    withShapes(
      command('bench')
        .addOption(options.json())
        .description('latency percentiles and throughput in onnxruntime; --vs compares two models interleaved')
        .argument('<model>', 'ONNX file (- reads stdin)')
        .option('--vs <other>', 'a second model, timed interleaved with the first (A B A B …)')
        .addOption(options.iterations('timed runs (with --vs: interleaved pairs)', ITERATIONS.bench))
        .addOption(new Option('--warmup <n>', 'untimed runs first').default(ITERATIONS.warmup as number).argParser(intArg('--warmup')))
        .addOption(options.threads())
        .addOption(options.batch('batch size (binds a symbolic batch dim)'))
        .option('--profile', "record onnxruntime's per-node profile and put it next to the roofline estimate")
        .addOption(options.device(`${DEVICE_DEFAULTS.bench}; with --profile`))
        .addOption(options.ortOpt('all')),
    )
      .addOption(options.seed())
      .addHelpText('after', example(['onnxkit bench model.onnx --iterations 100', 'onnxkit bench model.onnx --vs model.opt.onnx', 'onnxkit bench model.onnx --profile --device local'])),
  run: () =>
    withShapes(
      command('run')
        .addOption(options.json())
        .description('run a model once in onnxruntime and show (or save) its outputs')
        .argument('<model>', 'ONNX file (- reads stdin)')
        .addOption(options.inputs('input data: .npy, .npz, .pb, .json (default: seeded synthetic inputs)'))
        .addOption(options.output('save the outputs as .npz'))
        .addOption(options.seed()),
    )
      .addOption(options.threads())
      .addOption(options.ortOpt('disabled'))
      .addHelpText('after', example(['onnxkit run model.onnx', 'onnxkit run model.onnx --inputs input.npy -o outputs.npz'])),
  calibrate: () =>
    command('calibrate')
      .addOption(options.json())
      .description("measure this machine's peak FP32 FLOP/s and memory bandwidth (the 'local' device of the roofline)")
      .addOption(options.threads('onnxruntime intra-op threads for the MatMul'))
      .addOption(options.output('where to save the profile (default: your config folder, used by --device local)'))
      .option('--force', 'save the profile even when the machine looks busy')
      .addHelpText('after', example(['onnxkit calibrate', 'onnxkit analyze model.onnx --device local'])),
  report: () =>
    withShapes(
      withCalibration(
        command('report')
          .addOption(options.json())
          .description('a self-contained HTML report: per-layer charts, roofline, memory timeline, sortable table, before/after')
          .argument('<model>', 'ONNX file (- reads stdin)')
          .addOption(options.requiredOutput('HTML file to write, atomically (- writes stdout)'))
          .addOption(options.optimize('also optimize a copy (default preset, or a pass/preset list) and compare'))
          .option('--optimized <other>', 'compare against an already optimized model')
          .option('--quantize', 'also quantize to static int8 (QDQ, as onnxkit quantize) and show it beside fp32: size, MACs/integer OPs, roofline, measured latency, SQNR'),
        'with --quantize: calibration inputs (default: seeded synthetic inputs)',
      ).addOption(options.device()),
    )
      .option('--no-verify', 'do not verify the second model in onnxruntime')
      .addOption(options.bench(`interleaved timed pairs for the before/after latency (default ${ITERATIONS.reportBench})`, 0))
      .option('--no-bench', 'do not benchmark')
      .addOption(options.threads())
      .addOption(options.seed())
      .addHelpText('after', example(['onnxkit report resnet50.onnx -o resnet50.html', 'onnxkit report model.onnx --optimize -o report.html', 'onnxkit report model.onnx --optimized model.opt.onnx -o compare.html', 'onnxkit report model.onnx --optimize --quantize --calibration calib/ -o int8.html'])),
  demo: () =>
    withShapes(
      withCalibration(
        command('demo')
          .addOption(options.json('machine-readable summary'))
          .description('the main job: import → analyze → optimize → verify → benchmark → report, on MODEL or the embedded MobileNetV2')
          .argument('[model]', 'ONNX file (default: the zoo MobileNetV2 with BatchNorm kept, written to out/)')
          .option('--out <dir>', 'output folder (created if missing)', 'out')
          .addOption(options.device('this machine, calibrated once'))
          .addOption(options.preset('optimization preset').default(PRESET_NAMES[0]))
          .addOption(options.iterations('interleaved timed pairs per benchmark', ITERATIONS.demo))
          .option('--no-quantize', 'skip the int8 step (static QDQ beside the optimized fp32 model: size, MACs/integer OPs, roofline, latency, SQNR)'),
        'int8 step: calibration inputs (default: 8 seeded synthetic inputs and 2 held out, with a warning)',
      )
        .addOption(options.threads())
        .addOption(options.seed()),
    ).addHelpText('after', example(['onnxkit demo', 'onnxkit demo resnet50.onnx --out out/resnet50 --calibration calib/', 'onnxkit demo model.onnx --no-quantize'])),
  batch: () =>
    withShapes(
      command('batch')
        .addOption(options.json())
        .description('analyze (and optionally optimize + verify) every .onnx in a folder on worker threads; one summary table')
        .argument('<dir>', 'folder searched recursively for .onnx files')
        .addOption(options.output('summary table: .json, .csv or .html'))
        .addOption(options.optimize('also optimize each model (default preset, or a pass/preset list)'))
        .option('--verify', 'verify each optimized model against its original in onnxruntime')
        .addOption(new Option('--jobs <n>', `worker threads, at most ${MAX_BATCH_JOBS} (default: up to 4, by CPU count)`).argParser(intArg('--jobs', { min: 1, max: MAX_BATCH_JOBS })))
        .addOption(options.device()),
    ).addHelpText('after', example(['onnxkit batch models/ -o summary.csv', 'onnxkit batch zoo/ --optimize --verify -o regression.html', 'onnxkit batch models/ --dim N=1'])),
  serve: () =>
    command('serve')
      .description('the browser app on 127.0.0.1: drop a model, analyze, optimize — computed in the page, nothing uploaded')
      .argument('[model]', 'ONNX file the page opens on load')
      .addOption(new Option('--port <n>', 'TCP port (0: any free port)').default(8080).argParser(intArg('--port', { max: 65535 })))
      .option('--open', 'launch a browser on the URL')
      .addHelpText('after', example(['onnxkit serve', 'onnxkit serve resnet50.onnx --port 9000 --open'])),
  app: () =>
    command('app')
      .description('build the browser app into a static folder that any web server can host')
      .addOption(options.requiredOutput('folder to write: new, empty, or holding a previous app build (whose files are replaced; no other file is removed)'))
      .addHelpText('after', example(['onnxkit app -o site/'])),
};

/** The options a command's action receives, as commander parses them from its definition. */
export type OptionsOf<K extends keyof typeof definitions> = ReturnType<ReturnType<(typeof definitions)[K]>['opts']>;
