/**
 * Options shared by every zoo builder, their defaults and their validation. A bad option is a
 * ZooError naming the option, the value given and what is accepted.
 */
import { ZooError } from './errors.js';

export type WeightsMode = 'random' | 'zeros';

export interface ZooOptions {
  /** Batch dimension: a positive integer, or a string for a symbolic dim (e.g. 'N'). Default 1. */
  batch?: number | string;
  /** Seed of the weight generator (any safe integer). Default 0. */
  seed?: number;
  /** Default-domain opset version. Default 17. */
  opset?: number;
  /**
   * 'random' (default): seeded realistic initialisation. 'zeros': every parameter is zero and
   * they all view a shared zero buffer, so even a multi-GiB model costs almost no memory or
   * time to build (structure and sizes are identical to 'random').
   */
  weights?: WeightsMode;
  /**
   * With random weights: do not keep weights in memory; each tensor is a lazy TensorSource that
   * regenerates its (identical) bytes from the seed on every read. For very large models.
   */
  lazy?: boolean;
}

/** Options of the image classifiers. */
export interface ImageModelOptions extends ZooOptions {
  /** Classifier outputs. Default 1000. */
  numClasses?: number;
  /** Input height and width. Default 224. */
  imageSize?: number;
}

export const DEFAULT_OPSET = 17;
/** Clip with min/max inputs (used for ReLU6) needs opset 11. */
export const MIN_OPSET = 11;
/** ONNX 1.20 defines opset 25. */
export const MAX_OPSET = 25;

export interface Resolved {
  batch: number | string;
  seed: number;
  opset: number;
  weights: WeightsMode;
  lazy: boolean;
}

/** Validates the common options and fills in defaults. `model` names the builder in messages. */
export function resolveOptions(model: string, o: ZooOptions, minOpset = MIN_OPSET): Resolved {
  const batch = o.batch ?? 1;
  if (typeof batch === 'number') {
    if (!Number.isSafeInteger(batch) || batch < 1) {
      throw new ZooError(`${model}: batch must be a positive integer or a symbolic name, got ${batch}`, {
        hint: "use e.g. batch: 8, or batch: 'N' for a dynamic batch",
      });
    }
  } else if (typeof batch !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(batch)) {
    throw new ZooError(`${model}: symbolic batch ${JSON.stringify(batch)} is not an identifier`, {
      hint: "use a name such as 'N' or 'batch_size'",
    });
  }
  const seed = o.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new ZooError(`${model}: seed must be a safe integer, got ${seed}`);
  const opset = o.opset ?? DEFAULT_OPSET;
  if (!Number.isInteger(opset) || opset < minOpset || opset > MAX_OPSET) {
    throw new ZooError(`${model}: opset ${opset} is not supported`, { hint: `choose an opset from ${minOpset} to ${MAX_OPSET}` });
  }
  const weights = o.weights ?? 'random';
  if (weights !== 'random' && weights !== 'zeros') {
    throw new ZooError(`${model}: weights must be 'random' or 'zeros', got ${JSON.stringify(weights)}`);
  }
  return { batch, seed, opset, weights, lazy: o.lazy ?? false };
}

/**
 * The common options plus what every image classifier takes: `numClasses` (default 1000) and
 * `imageSize` (default 224, at least `minSize`), checked in that order.
 */
export function resolveImageOptions(model: string, o: ImageModelOptions, minSize: number): { r: Resolved; numClasses: number; size: number } {
  const r = resolveOptions(model, o);
  const numClasses = intOption(model, 'numClasses', o.numClasses ?? 1000, 1);
  const size = intOption(model, 'imageSize', o.imageSize ?? 224, minSize);
  return { r, numClasses, size };
}

/** Checks an integer option lies in [min, max]. */
export function intOption(model: string, name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ZooError(`${model}: ${name} must be an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? '∞' : max}], got ${value}`);
  }
  return value;
}

/**
 * The lowest IR version that can carry `opset` (the table of onnx/helper.py VERSION_TABLE):
 * older runtimes accept the model whenever they know the opset.
 */
export function irVersionFor(opset: number): number {
  if (opset <= 8) return 3;
  if (opset === 9) return 4;
  if (opset === 10) return 5;
  if (opset === 11) return 6;
  if (opset <= 18) return opset <= 14 ? 7 : 8;
  if (opset <= 20) return 9;
  if (opset <= 22) return 10;
  if (opset === 23) return 11;
  if (opset === 24) return 12;
  return 13;
}
