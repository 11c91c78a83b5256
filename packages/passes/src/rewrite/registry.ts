/**
 * The catalogue: every rewrite pass by name, the presets, and `runPipeline` — what the CLI's
 * `onnxkit optimize` / `onnxkit passes` are built on.
 */
import type { Model } from '@onnxkit/graph';
import { opTable } from '../common/op-table.js';
import { convToDepthwise } from './conv-to-depthwise.js';
import { convertFp16 } from './convert-fp16.js';
import { decoupleConv } from './decouple-conv.js';
import { eliminateCommonSubexpressions } from './eliminate-common-subexpressions.js';
import { eliminateDeadCode } from './eliminate-dead-code.js';
import { eliminateDuplicateInitializers } from './eliminate-duplicate-initializers.js';
import { eliminateIdentity } from './eliminate-identity.js';
import { PassError } from './errors.js';
import { foldBatchnorm } from './fold-batchnorm.js';
import { foldConstants } from './fold-constants.js';
import { fp16Weights } from './fp16-weights.js';
import { fuseAffineIntoConv } from './fuse-affine-into-conv.js';
import { fuseBiasIntoConv } from './fuse-bias-into-conv.js';
import { fuseConsecutiveReshapes } from './fuse-consecutive-reshapes.js';
import { fuseConsecutiveSqueezeUnsqueeze } from './fuse-consecutive-squeeze-unsqueeze.js';
import { fuseConsecutiveTransposes } from './fuse-consecutive-transposes.js';
import { fuseMatmulAddIntoGemm } from './fuse-matmul-add-into-gemm.js';
import { fusePadIntoConv } from './fuse-pad-into-conv.js';
import { PassManager, type PipelineOptions, type PipelineReport } from './manager.js';
import { quantizeWeightsInt8 } from './quantize-weights-int8.js';
import type { RulePass } from './rule.js';

/**
 * A pass of the catalogue: every one is declared (defineRulePass), with typed reasons and typed
 * options. Each pass's options type is its own, so the catalogue's is `unknown`: a caller that
 * configures a pass imports it (`decoupleConv.with({ rank: 2 })`), or gives loose values to
 * `parseOptions`, which checks them.
 */
export type AnyRulePass = RulePass<unknown, string>;

const ALL: readonly AnyRulePass[] = [
  eliminateIdentity,
  eliminateDeadCode,
  foldConstants,
  eliminateCommonSubexpressions,
  eliminateDuplicateInitializers,
  fuseConsecutiveTransposes,
  fuseConsecutiveReshapes,
  fuseConsecutiveSqueezeUnsqueeze,
  foldBatchnorm,
  fuseBiasIntoConv,
  fuseAffineIntoConv,
  fusePadIntoConv,
  fuseMatmulAddIntoGemm,
  convToDepthwise,
  decoupleConv,
  fp16Weights,
  convertFp16,
  quantizeWeightsInt8,
];

/** Every rewrite pass by name (= file stem = CLI name). */
export const PASSES: Readonly<Record<string, AnyRulePass>> = opTable(ALL.map((p) => [p.name, p] as const));

export interface Preset {
  readonly name: string;
  /** One line for `onnxkit passes`. */
  readonly description: string;
  readonly passes: readonly string[];
}

const DEFAULT_PASSES = [
  'eliminate-identity',
  'eliminate-dead-code',
  'fold-constants',
  'eliminate-common-subexpressions',
  'fuse-consecutive-transposes',
  'fuse-consecutive-reshapes',
  'fuse-consecutive-squeeze-unsqueeze',
  'fold-batchnorm',
  'fuse-bias-into-conv',
  'fuse-affine-into-conv',
  'fuse-pad-into-conv',
  'fuse-matmul-add-into-gemm',
  'conv-to-depthwise',
  // Last: merging identical weights earlier would make them shared and block weight folds.
  'eliminate-duplicate-initializers',
] as const;

/**
 * Presets. `default` holds exact passes only (cleanup first so fusions see through Identity and
 * folded shapes, then fusions, initializer deduplication last, run to a fixed point). `edge` adds fp16-weights: it halves the
 * file, keeps float32 compute (runs on any CPU, onnxruntime folds the Casts at load) and costs
 * ~1e-3 relative weight error — a safer default than int8 or full fp16 compute, which stay
 * available by name. With calibration data, `edge` means int8: `onnxkit optimize --preset edge
 * --calibration DIR` runs the `default` passes, then the QDQ flow of ../quantize once, after the
 * fixed point (packages/cli/src/edge-quantize.ts, the code of `onnxkit quantize`).
 * Every preset reaches its fixed point (test/rewrite/presets-converge.test.ts): fold-constants
 * declines the Casts fp16-weights adds [compressed-weight] instead of folding them back.
 */
export const PRESETS: Readonly<Record<string, Preset>> = opTable<Preset>({
  default: { name: 'default', description: 'Exact rewrites only: cleanup, constant folding, BN folding, fusions, exact depthwise regrouping', passes: DEFAULT_PASSES },
  edge: { name: 'edge', description: 'default + fp16-weights (float16 weights with a Cast back: half the file, float32 compute; approximate); with optimize --calibration: default, then static int8 (QDQ)', passes: [...DEFAULT_PASSES, 'fp16-weights'] },
});

/** A pass by name; throws a PassError listing the known names. */
export function getPass(name: string): AnyRulePass {
  const p = PASSES[name];
  if (!p) {
    throw new PassError(`unknown pass '${name}'`, {
      pass: name,
      ranBefore: [],
      code: 'PASS_UNKNOWN',
      hint: `known passes: ${Object.keys(PASSES).join(', ')}; presets: ${Object.keys(PRESETS).join(', ')}`,
    });
  }
  return p;
}

/**
 * Per-pass options from `pass.key=value` strings (for tools that take options as text; the CLI
 * has no such flag: its flags build configured passes, cli/src/pipeline.ts), validated against
 * each pass's typed options: unknown passes or keys and bad values throw a PassError. Values stay
 * strings here; each pass's parser converts them (numbers, true/false, a,b lists).
 */
export function passOptionsFromStrings(items: readonly string[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const item of items) {
    const m = /^([a-z0-9-]+)\.([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(item.trim());
    if (!m) throw new PassError(`bad pass option '${item}'`, { pass: '(options)', ranBefore: [], code: 'PASS_BAD_OPTION', hint: 'write pass.key=value, e.g. decouple-conv.rank=2' });
    const [, pass, key, value] = m as unknown as [string, string, string, string];
    (out[pass] ??= {})[key] = value;
  }
  for (const [name, loose] of Object.entries(out)) {
    getPass(name).parseOptions(loose);
  }
  return out;
}

/** Expands preset names and pass names into the list of passes to run (in order, no duplicates). */
export function resolvePipeline(namesOrPreset: string | readonly string[]): AnyRulePass[] {
  const names = typeof namesOrPreset === 'string' ? [namesOrPreset] : namesOrPreset;
  const out: AnyRulePass[] = [];
  for (const n of names) {
    const preset = PRESETS[n];
    const expanded = preset ? preset.passes : [n];
    for (const p of expanded) {
      const pass = getPass(p);
      if (!out.includes(pass)) out.push(pass);
    }
  }
  return out;
}

/** Runs passes (names and/or presets) on `model` in place to a bounded fixed point. */
export function runPipeline(model: Model, namesOrPreset: string | readonly string[], options: PipelineOptions = {}): Promise<PipelineReport> {
  return new PassManager(resolvePipeline(namesOrPreset), options).run(model);
}
