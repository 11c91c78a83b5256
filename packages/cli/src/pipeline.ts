/**
 * The rewrite pipeline as the CLI flags describe it (`--preset`, `--passes`, `--disable`,
 * `--rank`, `--max-error`, `--verify-each`, `--stop-after`, `--no-ort-fold`, `--input-shape`,
 * `--dim`), shared by `optimize`, `report --optimize`, `demo` and `batch`. `ONNXKIT_VERIFY=full` in
 * the environment closes the pipeline's output with a whole-model verify() (a debug mode).
 */
import type { Model } from '@onnxkit/graph';
import { PASSES, PRESETS, decoupleConv, foldConstants, resolvePipeline, type RewritePass, type runPipeline } from '@onnxkit/passes';
import type { ConstantEvaluator } from '@onnxkit/passes';
import { CliError } from './errors.js';
import { limits } from './limits.js';
import { inputShapesWithDims, intOption, parseInputShapes, positive, type CalibrationFlags, type CommonOptions, type ShapeOptions } from './options.js';

export interface OptimizeCliOptions extends CommonOptions, ShapeOptions, CalibrationFlags {
  output?: string;
  preset?: string;
  passes?: string;
  disable?: string;
  explain?: boolean | 'all' | 'changes';
  inPlace?: boolean;
  rank?: string;
  maxError?: string;
  verifyEach?: string;
  stopAfter?: string;
  ortFold?: boolean;
  externalData?: boolean;
}

/**
 * Pipeline options from the CLI flags (shared by `optimize`, `report`, `demo` and `batch`). With
 * the model, `--dim` bindings are folded into the pinned input shapes the pipeline takes.
 */
export function pipelineFromFlags(opts: OptimizeCliOptions, model?: Model): { names: string[]; options: Parameters<typeof runPipeline>[2] } {
  if (opts.passes && opts.preset) throw new CliError('give --preset or --passes, not both');
  // `edge` with calibration data: the exact passes here, then int8 quantization (edge-quantize.ts) instead of fp16-weights.
  const preset = opts.preset === 'edge' && opts.calibration !== undefined ? 'default' : opts.preset;
  const names = opts.passes !== undefined ? passOrPresetNames('--passes', opts.passes) : [preset ?? 'default'];
  const disabled = opts.disable !== undefined ? disabledPasses(opts.disable) : undefined;
  if (opts.preset && !PRESETS[opts.preset]) throw new CliError(`unknown preset '${opts.preset}'`, { hint: `presets: ${Object.keys(PRESETS).join(', ')}` });
  // --rank asks for the (approximate) decoupling pass; it runs after the named passes.
  if (opts.rank !== undefined && !names.includes('decouple-conv')) names.push('decouple-conv');
  resolvePipeline(names); // throws a PassError naming an unknown pass
  const rank = intOption('--rank', opts.rank, { min: 1 });
  // A relative error bound: a negative one declined every layer (and --max-error -1 ran, 0 changes).
  const maxError = opts.maxError === undefined ? undefined : positive('--max-error', opts.maxError);
  if (maxError !== undefined && rank === undefined) throw new CliError('--max-error applies to decouple-conv; give --rank too');
  const maxFolded = limits.maxFoldedBytes;
  const verify = opts.verifyEach ?? 'pass'; // commander checked it against VERIFY_EACH
  const inputShapes = model ? inputShapesWithDims(model, opts) : parseInputShapes(opts.inputShape);
  // The flags configure passes through their typed options factories (`pass.with`).
  const configured: RewritePass[] = [];
  if (rank !== undefined) configured.push(decoupleConv.with({ rank, ...(maxError !== undefined ? { maxError } : {}) }));
  if (maxFolded !== undefined) configured.push(foldConstants.with({ maxTensorBytes: maxFolded, maxTotalBytes: Math.max(maxFolded, 4 * maxFolded) }));
  const stopAfter = intOption('--stop-after', opts.stopAfter, { min: 0 });
  return {
    names,
    options: {
      verify: verify as 'off' | 'pass' | 'change',
      ...(disabled ? { disabled } : {}),
      ...(stopAfter !== undefined ? { stopAfterChanges: stopAfter } : {}),
      ...(configured.length > 0 ? { configured } : {}),
      ...(inputShapes ? { inputShapes } : {}),
      ...(opts.ortFold === false ? {} : { evaluator: lazyOrtEvaluator() }),
      // Debug: close the output with a whole-model verify() even when the local check of the
      // validated patches would do (it catches a pass that mutates behind its session's back).
      ...(process.env.ONNXKIT_VERIFY === 'full' ? { closingCheck: 'full' as const } : {}),
    },
  };
}

/**
 * The pipeline `report --optimize [passes]` and `batch --optimize [passes]` run: none without the
 * flag, the default preset for the bare flag, else the listed pass or preset names — checked here,
 * before any model is read, so a list that names nothing or an unknown pass is one error for the
 * command (not a failure per model after its import, or a run of the default preset).
 */
export function optimizeFlagPipeline(value: string | boolean | undefined): string[] | null {
  if (value === undefined || value === false) return null;
  if (value === true) return ['default'];
  const names = passOrPresetNames('--optimize', value);
  resolvePipeline(names); // (checks what the names make: a pipeline the library accepts)
  return names;
}

/** The comma-separated names of a flag; a flag that names nothing is an error, not the default. */
function nameList(flag: string, value: string, what: string): string[] {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new CliError(`${flag} names no pass`, { hint: `give ${what} separated by commas, e.g. ${flag} eliminate-identity,fold-constants` });
  return names;
}

/** The pass or preset names of `--passes` or `--optimize`, each checked (an unknown one names the flag). */
function passOrPresetNames(flag: string, value: string): string[] {
  const names = nameList(flag, value, 'pass or preset names');
  for (const n of names) if (PRESETS[n] === undefined) knownPass(flag, n, true);
  return names;
}

/**
 * `--disable`'s pass names, each checked: a misspelt name would otherwise disable nothing and say
 * nothing. A known pass the pipeline does not run is accepted (disabling it changes nothing).
 */
function disabledPasses(value: string): string[] {
  const names = nameList('--disable', value, 'pass names');
  for (const n of names) {
    if (PRESETS[n] !== undefined) throw new CliError(`--disable takes pass names; '${n}' is a preset`, { hint: 'name the passes to skip, e.g. --disable fold-constants, or choose the passes to run with --passes' });
    knownPass('--disable', n, false);
  }
  return names;
}

/** Refuses `name` unless it is a pass: `FLAG: unknown pass 'name'`, with the passes (and the presets, when `flag` takes them too). */
function knownPass(flag: string, name: string, presetsToo: boolean): void {
  if (PASSES[name] !== undefined) return;
  throw new CliError(`${flag}: unknown pass '${name}'`, { hint: `known passes: ${Object.keys(PASSES).join(', ')}${presetsToo ? `; presets: ${Object.keys(PRESETS).join(', ')}` : ''}` });
}

/**
 * onnxruntime's constant evaluator, loaded on its first use: most pipelines never call it, and
 * loading @onnxkit/runtime costs every `optimize` ≈10 ms of start-up.
 */
function lazyOrtEvaluator(): ConstantEvaluator {
  let evaluator: Promise<ConstantEvaluator> | undefined;
  return {
    async evaluate(nodes, inputs, opset) {
      evaluator ??= import('@onnxkit/runtime').then((r) => r.createConstantEvaluator());
      return (await evaluator).evaluate(nodes, inputs, opset);
    },
  };
}
