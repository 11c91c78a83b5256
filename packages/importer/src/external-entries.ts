/**
 * TensorProto.external_data entries: strict parsing and the path checks that need no file
 * system. The file-system checks (realpath containment, regular file, size) live in
 * `external-data.ts`.
 *
 * ONNX's own loader once copied every key onto an object (CVE-2026-34445: injected keys) and
 * joined `location` to the model folder unchecked (CVE-2022-25882, CVE-2024-27318). Here the
 * key set is closed (location, offset, length, checksum), each key may appear once, numbers are
 * plain decimal integers below 2^53, and the location is a relative path without `..`.
 */
import type { ExternalDataInfo } from '@onnxkit/graph';
import type { ImportErrorCode } from './errors.js';

type Fail = (code: ImportErrorCode, what: string, offset?: number) => never;

const KEYS = new Set(['location', 'offset', 'length', 'checksum']);
const DECIMAL = /^[0-9]{1,16}$/;

export function parseExternalEntries(entries: readonly { key: string; value: string; at: number }[], label: string, fail: Fail): ExternalDataInfo {
  const seen = new Map<string, string>();
  for (const { key, value, at } of entries) {
    if (!KEYS.has(key)) {
      fail('IMPORT_EXTERNAL_DATA', `${label} has external_data key '${clip(key)}', which is not one of location, offset, length, checksum; refusing the model`, at);
    }
    if (seen.has(key)) fail('IMPORT_EXTERNAL_DATA', `${label} repeats external_data key '${key}'; refusing an ambiguous location`, at);
    seen.set(key, value);
  }
  const location = seen.get('location');
  if (location === undefined || location === '') fail('IMPORT_EXTERNAL_DATA', `${label} is stored as external data but has no location`, entries[0]?.at);
  const number = (key: 'offset' | 'length'): number | undefined => {
    const text = seen.get(key);
    if (text === undefined) return undefined;
    const at = entries.find((e) => e.key === key)?.at;
    if (!DECIMAL.test(text)) fail('IMPORT_EXTERNAL_DATA', `${label} has external_data ${key} '${clip(text)}', which is not a non-negative decimal integer`, at);
    const v = Number(text);
    if (!Number.isSafeInteger(v)) fail('IMPORT_EXTERNAL_DATA', `${label} has external_data ${key} ${text}, beyond 2^53`, at);
    return v;
  };
  const offset = number('offset') ?? 0;
  const length = number('length');
  if (length !== undefined && !Number.isSafeInteger(offset + length)) fail('IMPORT_EXTERNAL_DATA', `${label}: external_data offset + length overflows 2^53`);
  const checksum = seen.get('checksum');
  return checksum === undefined ? { location, offset, length } : { location, offset, length, checksum };
}

/**
 * Refuses locations that could leave the model's folder whatever the file system holds:
 * absolute paths, drive letters, UNC paths, `..` segments (with / or \ as separator, so
 * `subdir/../../x` and Windows-written paths are caught), and NUL bytes.
 */
export function checkExternalLocationSyntax(location: string, label: string, fail: Fail): void {
  const shown = clip(location);
  if (location.includes('\0')) fail('IMPORT_EXTERNAL_DATA', `${label} has an external data location containing a NUL byte`);
  if (location.startsWith('/') || location.startsWith('\\') || /^[A-Za-z]:/.test(location)) {
    fail('IMPORT_EXTERNAL_DATA', `${label} has absolute external data location '${shown}'; only paths inside the model's folder are allowed`);
  }
  const segments = location.split(/[/\\]/);
  if (segments.includes('..')) {
    fail('IMPORT_EXTERNAL_DATA', `${label} has external data location '${shown}' with a '..' segment; only paths inside the model's folder are allowed`);
  }
  if (segments.every((s) => s === '' || s === '.')) fail('IMPORT_EXTERNAL_DATA', `${label} has external data location '${shown}', which names no file`);
}

function clip(s: string): string {
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}
