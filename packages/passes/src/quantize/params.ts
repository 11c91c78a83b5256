/**
 * Quantization parameters of a tensor from its calibrated range, as onnxruntime's quantizer
 * computes them (`compute_scale_zp`):
 *
 *   rmin' = min(rmin, 0), rmax' = max(rmax, 0)      (0 must be exactly representable: padding)
 *   symmetric: rmax' = max(|rmin'|, |rmax'|), rmin' = −rmax'
 *   scale = (rmax' − rmin') / (qmax − qmin),  zero_point = round(qmin − rmin' / scale)
 *
 * with [qmin, qmax] = [0, 255] for uint8, [−128, 127] for asymmetric int8 and [−127, 127] for
 * symmetric int8 (the weights). A range that is all zeros gets scale 1 (any scale is exact).
 * Scales are rounded to float32 once here, so biases are computed with the scales the model stores.
 */
export type QuantType = 'uint8' | 'int8';

export interface TensorRange {
  readonly min: number;
  readonly max: number;
}

export interface QuantParams {
  readonly type: QuantType;
  /** float32-exact. */
  readonly scale: number;
  readonly zeroPoint: number;
}

export function qRange(type: QuantType, symmetric: boolean): [number, number] {
  if (type === 'uint8') return [0, 255];
  return symmetric ? [-127, 127] : [-128, 127];
}

export function computeParams(range: TensorRange, type: QuantType, symmetric: boolean): QuantParams {
  let rmin = Math.min(range.min, 0);
  let rmax = Math.max(range.max, 0);
  if (symmetric) {
    const a = Math.max(Math.abs(rmin), Math.abs(rmax));
    rmin = -a;
    rmax = a;
  }
  const [qmin, qmax] = qRange(type, symmetric);
  let scale = Math.fround((rmax - rmin) / (qmax - qmin));
  if (!(scale > 0) || !Number.isFinite(scale)) return { type, scale: 1, zeroPoint: type === 'uint8' && symmetric ? 128 : 0 };
  if (scale < 1e-30) scale = Math.fround(1e-30);
  const zp = Math.max(qmin, Math.min(qmax, Math.round(qmin - rmin / scale)));
  return { type, scale, zeroPoint: zp };
}

/** Quantizes `x` (float) with `p`, saturating. */
export function quantizeValue(x: number, p: QuantParams): number {
  const [qmin, qmax] = qRange(p.type, false);
  return Math.max(qmin, Math.min(qmax, Math.round(x / p.scale) + p.zeroPoint));
}
