/**
 * Device profiles for the roofline latency estimate: named, versioned peak compute and memory
 * bandwidth, each with its source. `local` is the profile of the machine onnxkit runs on,
 * produced by the `calibrate` command (measured ORT MatMul GFLOP/s and memcpy bandwidth,
 * packages/runtime) in the same format and read back with `parseDeviceProfile`.
 *
 * Peak numbers are vendor peaks for dense math (no structured sparsity): real kernels reach a
 * fraction of them, so a roofline estimate is a lower bound on latency.
 */
import { parseEnergyTable, type EnergyTable } from './energy.js';
import { DeviceProfileError } from './errors.js';

export interface PeakFlops {
  /** FP32 FLOP/s. */
  readonly fp32: number;
  /** FP16 FLOP/s (tensor cores where the device has them, dense). */
  readonly fp16?: number;
  /** INT8 OP/s (dense). */
  readonly int8?: number;
}

export interface DeviceProfile {
  /** Stable name used by `--device`, e.g. "jetson-agx-orin", or "local". */
  readonly id: string;
  /** Revision of this profile's numbers (a measured profile: when/how it was measured). */
  readonly version: string;
  readonly title: string;
  readonly peakFlops: PeakFlops;
  /** Bytes per second. */
  readonly memoryBandwidth: number;
  /** Where the numbers come from (datasheet citation, or the measurement method). */
  readonly source: string;
  /** ISO timestamp of a measured (`local`) profile. */
  readonly measuredAt?: string;
  /** How a measured profile was obtained. */
  readonly method?: string;
  /** The device's own per-operation energies (default: Horowitz ISSCC 2014, 45 nm). */
  readonly energy?: EnergyTable;
  /**
   * Bandwidth by working-set size, ascending (a measured profile: caches, then DRAM): a layer
   * whose bytes moved fit in a level is bound by that level's bandwidth (hierarchical roofline).
   */
  readonly memoryHierarchy?: readonly { readonly bytes: number; readonly bandwidth: number }[];
  /** Intra-op threads a measured profile was taken with. */
  readonly threads?: number;
}

const T = 1e12;
const G = 1e9;

/** Built-in profiles. */
export const DEVICES: readonly DeviceProfile[] = Object.freeze([
  {
    id: 'jetson-agx-orin',
    version: '1',
    title: 'NVIDIA Jetson AGX Orin 64GB (Ampere GPU, MAXN)',
    peakFlops: { fp32: 5.3 * T, fp16: 42.5 * T, int8: 85 * T },
    memoryBandwidth: 204.8 * G,
    source:
      'NVIDIA Jetson AGX Orin Series Technical Brief v1.2: GPU of 2048 CUDA cores = 5.3 FP32 TFLOPS, ' +
      '64 Tensor Cores = 170 sparse INT8 TOPS (85 dense; FP16 dense is half of INT8 dense = 42.5 TFLOPS); ' +
      '256-bit LPDDR5 at 204.8 GB/s. The 275 TOPS headline adds the DLAs and sparsity.',
  },
  {
    id: 'raspberry-pi-4',
    version: '2',
    title: 'Raspberry Pi 4 Model B (4× Cortex-A72 @ 1.5 GHz, LPDDR4-3200)',
    peakFlops: { fp32: 48 * G, int8: 96 * G },
    memoryBandwidth: 12.8 * G,
    source:
      'Raspberry Pi 4 specifications (BCM2711: 4× Cortex-A72 at 1.5 GHz, LPDDR4-3200 on a 32-bit bus = 12.8 GB/s peak); ' +
      'Cortex-A72 issues 8 FP32 FLOP/cycle/core (one 128-bit NEON FMA; measured 15.9 GFLOPS/core at 2 GHz by ' +
      'vfpbench, wlog.flatlib.jp 2015): 4 × 1.5 GHz × 8 = 48 GFLOPS. INT8 is an ESTIMATE from NEON, not a vendor number: ' +
      'the A72 (Armv8.0) has no SDOT; one 128-bit SMLAL/SMLAL2 per cycle (Cortex-A72 Software Optimization Guide: ASIMD ' +
      'multiply-accumulate long, throughput 1, F0 pipe only) = 8 int8 MACs = 16 OP/cycle/core: 4 × 1.5 GHz × 16 = 96 GOPS ' +
      '(int16 accumulators must be widened to int32, so real kernels get less).',
  },
  {
    id: 'h100-sxm',
    version: '1',
    title: 'NVIDIA H100 SXM5 80GB',
    peakFlops: { fp32: 66.9 * T, fp16: 989.4 * T, int8: 1978.9 * T },
    memoryBandwidth: 3.35 * T,
    source:
      'NVIDIA H100 Tensor Core GPU datasheet (SXM5): FP32 67 TFLOPS, FP16/BF16 Tensor Core 1,979 TFLOPS and ' +
      'INT8 3,958 TOPS with sparsity (dense: half, 989.4 / 1,978.9), HBM3 3.35 TB/s.',
  },
]);

export const DEFAULT_DEVICE = 'jetson-agx-orin';

/** A built-in profile by id; DeviceProfileError listing the known ids otherwise. */
export function getDevice(name: string): DeviceProfile {
  const d = DEVICES.find((x) => x.id === name);
  if (d) return d;
  if (name === 'local') {
    throw new DeviceProfileError("the 'local' profile is measured on this machine by `onnxkit calibrate` and has not been loaded", {
      hint: 'run `onnxkit calibrate` and pass the profile it writes (JSON) to --device',
    });
  }
  throw new DeviceProfileError(`unknown device '${name}'`, { hint: `known devices: ${DEVICES.map((x) => x.id).join(', ')}, or a calibrated 'local' profile file` });
}

function positive(where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new DeviceProfileError(`device profile: ${where} must be a positive number, got ${JSON.stringify(v)}`);
  }
  return v;
}

function text(where: string, v: unknown, required: boolean): string | undefined {
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || (required && v.length === 0)) {
    throw new DeviceProfileError(`device profile: ${where} must be a ${required ? 'non-empty ' : ''}string, got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * Validates a device profile given as JSON text or a parsed object (a built-in's format, or a
 * `local` profile written by `calibrate`). `version` may be a number; it is kept as a string.
 */
function hierarchy(v: unknown): { bytes: number; bandwidth: number }[] {
  if (!Array.isArray(v)) throw new DeviceProfileError('device profile: memoryHierarchy must be an array like [{ "bytes": 32768, "bandwidth": 2e11 }, …]');
  const out = v.map((x, i) => {
    const o = (x ?? {}) as Record<string, unknown>;
    return { bytes: positive(`memoryHierarchy[${i}].bytes`, o.bytes), bandwidth: positive(`memoryHierarchy[${i}].bandwidth`, o.bandwidth) };
  });
  out.sort((a, b) => a.bytes - b.bytes);
  return out;
}

export function parseDeviceProfile(json: unknown): DeviceProfile {
  let o: unknown = json;
  if (typeof json === 'string') {
    try {
      o = JSON.parse(json);
    } catch (e) {
      throw new DeviceProfileError(`device profile is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new DeviceProfileError('device profile must be a JSON object');
  const r = o as Record<string, unknown>;
  const id = text('id', r.id, true)!;
  const version = typeof r.version === 'number' ? String(r.version) : text('version', r.version, true)!;
  const pf = r.peakFlops;
  if (pf === null || typeof pf !== 'object') throw new DeviceProfileError('device profile: peakFlops must be an object like { "fp32": 5.8e10 }');
  const p = pf as Record<string, unknown>;
  const peakFlops: PeakFlops = {
    fp32: positive('peakFlops.fp32', p.fp32),
    ...(p.fp16 !== undefined ? { fp16: positive('peakFlops.fp16', p.fp16) } : {}),
    ...(p.int8 !== undefined ? { int8: positive('peakFlops.int8', p.int8) } : {}),
  };
  const measuredAt = text('measuredAt', r.measuredAt, false);
  const method = text('method', r.method, false);
  const source = text('source', r.source, false) ?? method ?? (measuredAt ? `measured ${measuredAt}` : undefined);
  if (source === undefined) throw new DeviceProfileError('device profile: give a source (datasheet) or the measurement method');
  return {
    id,
    version,
    title: text('title', r.title, false) ?? id,
    peakFlops,
    memoryBandwidth: positive('memoryBandwidth', r.memoryBandwidth),
    source,
    ...(measuredAt !== undefined ? { measuredAt } : {}),
    ...(method !== undefined ? { method } : {}),
    ...(r.energy !== undefined ? { energy: parseEnergyTable(r.energy, 'device profile: energy') } : {}),
    ...(r.memoryHierarchy !== undefined ? { memoryHierarchy: hierarchy(r.memoryHierarchy) } : {}),
    ...(typeof r.threads === 'number' && Number.isInteger(r.threads) && r.threads > 0 ? { threads: r.threads } : {}),
  };
}
