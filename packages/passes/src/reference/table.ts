/**
 * TEMPORARY op type → reference kernel table. At merge each entry moves into its op's home
 * (packages/passes/src/ops/*, the `reference` slot) and this file goes away.
 */
import { convRef, convTransposeRef } from './kernels/conv.js';
import * as ew from './kernels/elementwise.js';
import { einsumRef, gemmRef, matMulRef } from './kernels/matmul.js';
import { batchNormalizationRef, hardmaxRef, instanceNormalizationRef, layerNormalizationRef, logSoftmaxRef, lrnRef, softmaxRef } from './kernels/norm.js';
import { averagePoolRef, globalAveragePoolRef, globalLpPoolRef, globalMaxPoolRef, lpPoolRef, maxPoolRef } from './kernels/pool.js';
import * as rd from './kernels/reduce.js';
import { resizeRef, upsampleRef } from './kernels/resize.js';
import { lstmRef } from './kernels/rnn.js';
import * as sh from './kernels/shape.js';
import type { ReferenceKernel } from './types.js';

export const REFERENCE_KERNELS: ReadonlyMap<string, ReferenceKernel> = new Map<string, ReferenceKernel>([
  ...Object.entries(ew.unaryRefs),
  ['Identity', ew.identityRef],
  ['IsNaN', ew.isNaNRef],
  ['IsInf', ew.isInfRef],
  ['Add', ew.addRef],
  ['Sub', ew.subRef],
  ['Mul', ew.mulRef],
  ['Div', ew.divRef],
  ['Pow', ew.powRef],
  ['Mod', ew.modRef],
  ['BitShift', ew.bitShiftRef],
  ['PRelu', ew.preluRef],
  ['Equal', ew.equalRef],
  ['Less', ew.lessRef],
  ['Greater', ew.greaterRef],
  ['LessOrEqual', ew.lessOrEqualRef],
  ['GreaterOrEqual', ew.greaterOrEqualRef],
  ['And', ew.andRef],
  ['Or', ew.orRef],
  ['Xor', ew.xorRef],
  ['Not', ew.notRef],
  ['Where', ew.whereRef],
  ['Sum', ew.sumRef],
  ['Mean', ew.meanRef],
  ['Max', ew.maxRef],
  ['Min', ew.minRef],
  ['Clip', ew.clipRef],
  ['Conv', convRef],
  ['ConvTranspose', convTransposeRef],
  ['MatMul', matMulRef],
  ['Gemm', gemmRef],
  ['Einsum', einsumRef],
  ['BatchNormalization', batchNormalizationRef],
  ['InstanceNormalization', instanceNormalizationRef],
  ['LayerNormalization', layerNormalizationRef],
  ['LRN', lrnRef],
  ['Softmax', softmaxRef],
  ['LogSoftmax', logSoftmaxRef],
  ['Hardmax', hardmaxRef],
  ['MaxPool', maxPoolRef],
  ['AveragePool', averagePoolRef],
  ['LpPool', lpPoolRef],
  ['GlobalAveragePool', globalAveragePoolRef],
  ['GlobalMaxPool', globalMaxPoolRef],
  ['GlobalLpPool', globalLpPoolRef],
  ['ReduceSum', rd.reduceSumRef],
  ['ReduceMean', rd.reduceMeanRef],
  ['ReduceMax', rd.reduceMaxRef],
  ['ReduceMin', rd.reduceMinRef],
  ['ReduceProd', rd.reduceProdRef],
  ['ReduceL1', rd.reduceL1Ref],
  ['ReduceL2', rd.reduceL2Ref],
  ['ReduceSumSquare', rd.reduceSumSquareRef],
  ['ReduceLogSum', rd.reduceLogSumRef],
  ['ReduceLogSumExp', rd.reduceLogSumExpRef],
  ['ArgMax', rd.argMaxRef],
  ['ArgMin', rd.argMinRef],
  ['LSTM', lstmRef],
  ['Resize', resizeRef],
  ['Upsample', upsampleRef],
  ['Reshape', sh.reshapeRef],
  ['Flatten', sh.flattenRef],
  ['Squeeze', sh.squeezeRef],
  ['Unsqueeze', sh.unsqueezeRef],
  ['Dropout', sh.dropoutRef],
  ['Concat', sh.concatRef],
  ['Split', sh.splitRef],
  ['Slice', sh.sliceRef],
  ['Gather', sh.gatherRef],
  ['GatherElements', sh.gatherElementsRef],
  ['Transpose', sh.transposeRef],
  ['Expand', sh.expandRef],
  ['Tile', sh.tileRef],
  ['Pad', sh.padRef],
  ['Shape', sh.shapeRef],
  ['Size', sh.sizeRef],
  ['Constant', sh.constantRef],
  ['ConstantOfShape', sh.constantOfShapeRef],
  ['Range', sh.rangeRef],
  ['Cast', sh.castRef],
  ['CastLike', sh.castLikeRef],
  ['DepthToSpace', sh.depthToSpaceRef],
  ['SpaceToDepth', sh.spaceToDepthRef],
]);

/** The op types the reference evaluates (default domain), sorted. */
export const REFERENCE_OPS: readonly string[] = [...REFERENCE_KERNELS.keys()].sort();
