/**
 * Sliding-window geometry shared by the Conv and pooling reference kernels: auto_pad SAME sizes,
 * flat position ↔ multi-index, and the input element a kernel tap of a window reads.
 */

/** Per spatial axis: kernel extent, strides, dilations, the padding before, the output size. */
export interface WindowGeometry {
  kernel: readonly number[];
  strides: number[];
  dilations: number[];
  padBegin: number[];
  outSpatial: number[];
}

/**
 * auto_pad SAME_UPPER / SAME_LOWER along one axis of size `n`: `out` = ⌈n / stride⌉ positions,
 * `total` padding to fit a window of effective extent `ek` at each, `begin` of it before (the
 * smaller half for SAME_UPPER, the larger for SAME_LOWER).
 */
export function samePad(n: number, stride: number, ek: number, upper: boolean): { out: number; begin: number; total: number } {
  const out = Math.ceil(n / stride);
  const total = Math.max(0, (out - 1) * stride + ek - n);
  return { out, begin: upper ? Math.floor(total / 2) : total - Math.floor(total / 2), total };
}

/** Writes the row-major multi-index of flat position `flat` in a box of extent `dims` into `idx`. */
export function unravel(flat: number, dims: readonly number[], idx: number[]): void {
  let rem = flat;
  for (let d = dims.length - 1; d >= 0; d--) {
    idx[d] = rem % dims[d]!;
    rem = Math.floor(rem / dims[d]!);
  }
}

/**
 * The offset (Σ position · `strides`) of the input element that kernel tap `kIdx` of the window at
 * output position `oIdx` reads, or -1 when the tap falls in the padding outside `inSpatial`.
 */
export function tapOffset(g: WindowGeometry, oIdx: readonly number[], kIdx: readonly number[], inSpatial: readonly number[], strides: readonly number[]): number {
  let off = 0;
  for (let d = 0; d < inSpatial.length; d++) {
    const i = oIdx[d]! * g.strides[d]! - g.padBegin[d]! + kIdx[d]! * g.dilations[d]!;
    if (i < 0 || i >= inSpatial[d]!) return -1;
    off += i * strides[d]!;
  }
  return off;
}
