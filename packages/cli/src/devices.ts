/**
 * Device profiles for the roofline: a built-in id (`jetson-agx-orin`, `raspberry-pi-4`,
 * `h100-sxm`), `local` (this machine, measured by `onnxkit calibrate` and stored in the user's
 * config folder), or a path to a profile JSON file.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEVICES, getDevice, parseDeviceProfile, type DeviceProfile } from '@onnxkit/passes';
import { CliError } from './errors.js';

/** Where `onnxkit calibrate` stores the `local` profile. */
export function localProfilePath(): string {
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'onnxkit', 'devices', 'local.json');
}

export function resolveDevice(name: string | undefined): DeviceProfile {
  if (name === undefined) return getDevice('jetson-agx-orin');
  if (name === 'local') {
    const p = localProfilePath();
    if (!existsSync(p)) throw new CliError(`no measured profile for this machine at ${p}`, { hint: 'run `onnxkit calibrate` first' });
    return readProfile(p);
  }
  if (name.endsWith('.json') || name.includes('/')) return readProfile(name);
  if (!DEVICES.some((d) => d.id === name)) {
    throw new CliError(`unknown device '${name}'`, { hint: `choose one of ${[...DEVICES.map((d) => d.id), 'local'].join(', ')}, or pass a profile .json` });
  }
  return getDevice(name);
}

function readProfile(path: string): DeviceProfile {
  let json: unknown;
  // A FIFO or device would block the read forever (issue 13): regular files only.
  if (existsSync(path) && !statSync(path).isFile()) throw new CliError(`${path} is not a regular file; a device profile must be a .json file`);
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code) throw e;
    throw new CliError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  return parseDeviceProfile(json);
}
