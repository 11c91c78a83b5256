/**
 * Device profiles for the roofline: a built-in id (`jetson-agx-orin`, `raspberry-pi-4`,
 * `h100-sxm`), `local` (this machine, measured by `onnxkit calibrate` and stored in the user's
 * config folder), or a path to a profile JSON file.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DEVICE, DEVICES, getDevice, parseDeviceProfile, type DeviceProfile } from '@onnxkit/passes';
import { CliError } from './errors.js';
import { ensureParent, readSmallFile } from './fs-utils.js';

/** Where `onnxkit calibrate` stores the `local` profile. */
export function localProfilePath(): string {
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'onnxkit', 'devices', 'local.json');
}

export function resolveDevice(name: string | undefined, say: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): DeviceProfile {
  if (name === undefined) return getDevice(DEFAULT_DEVICE);
  if (name === 'local') {
    const p = localProfilePath();
    if (!existsSync(p)) throw new CliError(`no measured profile for this machine at ${p}`, { hint: 'run `onnxkit calibrate` first' });
    return readProfile(p, say);
  }
  if (isProfilePath(name)) return readProfile(name, say);
  checkDeviceName(name);
  return getDevice(name);
}

const isProfilePath = (name: string): boolean => name.endsWith('.json') || name.includes('/');

/**
 * Refuses a `--device` that is neither a built-in id, `local` nor a profile path, before any work
 * (reading the profile is left to resolveDevice): `bench --device foo` timed the model first.
 */
export function checkDeviceName(name: string): void {
  if (name === 'local' || isProfilePath(name) || DEVICES.some((d) => d.id === name)) return;
  throw new CliError(`--device '${name}' is not one of ${[...DEVICES.map((d) => d.id), 'local'].join(', ')}, nor a profile .json`);
}

/**
 * resolveDevice, but a command that needs `local` and finds no calibration calibrates once (with
 * the command's thread count), saves it and says so, instead of failing on a fresh machine.
 */
export async function resolveDeviceOrCalibrate(name: string | undefined, threads: number, say: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<DeviceProfile> {
  if (name !== 'local' || existsSync(localProfilePath())) {
    const d = resolveDevice(name, say);
    if (name === 'local' && d.threads !== undefined && d.threads !== threads) say(`note: the local profile was calibrated with ${d.threads} thread(s), this run uses ${threads}; run \`onnxkit calibrate --threads ${threads}\` for a matching roofline`);
    return d;
  }
  const path = localProfilePath();
  say(`no calibration for this machine yet: running \`onnxkit calibrate --threads ${threads}\` once (a few seconds), saved to ${path}`);
  const { calibrate } = await import('@onnxkit/runtime');
  const profile = await calibrate({ threads });
  if (profile.load.busy) say(`warning: the machine looks busy (${profile.load.reason}); the local profile may understate it — recalibrate on a quiet machine`);
  const { writeFileAtomic } = await import('@onnxkit/importer');
  ensureParent(path);
  writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(profile, null, 2) + '\n'));
  return parseDeviceProfile(profile);
}

/**
 * Why a stored calibration is out of date, or undefined. Calibrations before onnxkit 0.1's
 * best-of kernels timed the median call (`medianMs`): their peak is lower, so the roofline
 * estimate is higher and may exceed what onnxruntime measures — no longer a lower bound.
 */
export function staleCalibration(json: unknown): string | undefined {
  const details = (json as { details?: { copy?: object; matmul?: object[] } } | null)?.details;
  const timings = [details?.copy, ...(details?.matmul ?? [])];
  if (timings.some((t) => t !== null && typeof t === 'object' && 'medianMs' in t)) {
    return 'it was measured by an older `onnxkit calibrate` (median calls, a lower peak: the roofline estimate runs high and may exceed measured latency)';
  }
  return undefined;
}

function readProfile(path: string, say?: (line: string) => void): DeviceProfile {
  let json: unknown;
  // A FIFO or device would block the read forever (issue 13): regular files only.
  const text = readSmallFile(path, 'a device profile');
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CliError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  const stale = say && staleCalibration(json);
  if (stale) say(`note: the device profile ${path} is out of date: ${stale}; run \`onnxkit calibrate\` again`);
  return parseDeviceProfile(json);
}
