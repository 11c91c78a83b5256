/**
 * Axis arithmetic every op family shares: normalising a possibly negative axis, and the
 * [start, end) range Shape(start, end) returns (opset 15). Shape inference, the kernels and the
 * rewrites all call these, so the ONNX rules are written once.
 */
import type { Node } from '@onnxkit/graph';

/** `axis` counted from the end when negative; undefined when outside [0, rank). */
export function normAxis(axis: number, rank: number): number | undefined {
  const a = axis < 0 ? axis + rank : axis;
  return Number.isInteger(a) && a >= 0 && a < rank ? a : undefined;
}

/**
 * The dims Shape(start, end) returns of a rank-`rank` input, as a [start, end) range with
 * start ≤ end: start/end exist from opset 15, negative values count from the end and both clamp
 * to [0, rank].
 */
export function shapeRange(node: Node, rank: number, opset: number): { readonly start: number; readonly end: number } {
  if (opset < 15) return { start: 0, end: rank };
  const clamp = (v: number): number => Math.min(rank, Math.max(0, v < 0 ? v + rank : v));
  const start = clamp(node.getInt('start', 0));
  const end = clamp(node.getInt('end', rank));
  return { start, end: Math.max(start, end) };
}
