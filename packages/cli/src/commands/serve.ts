/**
 * `onnxkit serve [MODEL] [--port N] [--open]`: serves the prebuilt browser app (dist/app, see
 * app-static.ts) on 127.0.0.1 only. The server serves files and nothing else (GET/HEAD, no
 * uploads, no API); all computation happens in the page. With MODEL, the model is also served
 * read-only at `/model/<name>`, with the external data files it names (only those, and only
 * when they resolve inside the model's folder), and the page opens it on load. Every file
 * answers HTTP Range requests, so the page reads a large model's structure without its weights.
 * Paths that leave the app folder are refused, and so are requests for another host name (a
 * DNS-rebinding page cannot read the model).
 */
import { spawn } from 'node:child_process';
import { closeSync, createReadStream, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { basename, dirname, extname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { ExternalDataInfo, TensorSource } from '@onnxkit/graph';
import { decodeSource, type RangeReader } from '@onnxkit/importer/codec';
import { prebuiltApp } from '../app-static.js';
import { CliError } from '../errors.js';
import { armInterruption } from '../interrupt.js';
import type { OptionsOf } from '../definitions.js';

/** The options of `onnxkit serve`, as its definition (definitions.ts) makes commander parse them. */
export type ServeCliOptions = OptionsOf<'serve'>;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.onnx': 'application/octet-stream',
};

export interface StaticServer {
  server: Server;
  url: string;
  /** Body bytes sent so far per request path (decoded), e.g. `/model/vgg16.onnx`. */
  readonly bytesSent: ReadonlyMap<string, number>;
  /** External data files the served model names that are not served (absent, or outside its folder). */
  readonly notServed: readonly string[];
  close(): Promise<void>;
}

/** True when `child` is `parent` or inside it (both absolute). */
function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!isAbsolute(rel) && rel.split(sep)[0] !== '..');
}

/** The model served by `serve MODEL` and the files the page may read with it, by URL path. */
interface ServedModel {
  name: string;
  files: Map<string, string>;
  notServed: string[];
}

/** Positional reads of a file (structure-only decode of the model at start-up). */
function fileReader(path: string, fd: number): RangeReader {
  const size = statSync(path).size;
  return {
    name: basename(path),
    size,
    readAt(offset: number, target: Uint8Array, length: number): void {
      let done = 0;
      while (done < length) {
        const n = readSync(fd, target, done, length - done, offset + done);
        if (n === 0) throw new CliError(`'${path}' ended while reading it (is it complete?)`);
        done += n;
      }
    },
  };
}

/**
 * The model and the external data files it names, as URL paths under /model/. A location that
 * does not resolve to a regular file inside the model's folder is left out (the page then asks
 * for it by name); nothing else in the folder is served.
 */
function modelFiles(model: string): ServedModel {
  const real = realpathSync(model);
  const folder = dirname(real);
  const name = basename(model);
  const files = new Map<string, string>([[`/model/${name}`, real]]);
  const locations = new Set<string>();
  const fd = openSync(real, 'r');
  try {
    decodeSource(fileReader(real, fd), {
      file: name,
      external: (info: ExternalDataInfo, _tensor: string, _field: string, byteLength: number): TensorSource => {
        locations.add(info.location);
        return { byteLength, external: info, description: info.location, read: () => new Uint8Array(0), readInto: () => undefined };
      },
    });
  } catch {
    // Not a model the codec can read: the page shows why when it opens it.
  } finally {
    closeSync(fd);
  }
  const notServed: string[] = [];
  for (const location of locations) {
    let target: string | undefined;
    try {
      const joined = resolve(folder, location);
      const real = isInside(folder, joined) ? realpathSync(joined) : undefined;
      if (real !== undefined && isInside(folder, real) && statSync(real).isFile()) target = real;
    } catch {
      // absent or unreadable: not served
    }
    if (target === undefined) notServed.push(location);
    else files.set(`/model/${location}`, target);
  }
  return { name, files, notServed };
}

/** Parses a single `bytes=` range against `size`: the range, 'unsatisfiable', or undefined (ignore the header). */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/**
 * Serves `root` (and optionally one model file at /model/<name>, with its external data files)
 * on 127.0.0.1:`port` (0 = any free port). Resolves the URL once listening.
 */
export function serveStatic(root: string, port: number, model?: string): Promise<StaticServer> {
  const realRoot = realpathSync(root);
  const served = model ? modelFiles(model) : undefined;
  const bytesSent = new Map<string, number>();
  let hosts = new Set<string>();
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const send = (status: number, text: string, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', ...headers });
      res.end(req.method === 'HEAD' ? undefined : text + '\n');
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'this server only serves files (GET)');
    if (!hosts.has(req.headers.host ?? '')) return send(421, 'this server answers only to 127.0.0.1 and localhost');
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    } catch {
      return send(400, 'bad request path');
    }
    if (path.includes('\0') || path.split('/').includes('..') || path.includes('\\')) return send(403, 'path refused');
    let file: string;
    if (served && path.startsWith('/model/')) {
      const hit = served.files.get(path);
      if (hit === undefined) return send(404, 'not found (only the model and the external data files it names are served)');
      file = hit;
    } else {
      file = resolve(realRoot, '.' + (path.endsWith('/') ? path + 'index.html' : path));
      let real: string;
      try {
        real = realpathSync(file);
      } catch {
        return send(404, 'not found');
      }
      if (real !== realRoot && !real.startsWith(realRoot + sep)) return send(403, 'path refused');
      file = real;
    }
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) return send(404, 'not found');
      size = st.size;
    } catch {
      return send(404, 'not found');
    }
    const range = parseRange(typeof req.headers.range === 'string' ? req.headers.range : undefined, size);
    if (range === 'unsatisfiable') return send(416, 'range not satisfiable', { 'content-range': `bytes */${size}` });
    const common = {
      'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'accept-ranges': 'bytes',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    };
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    const length = size === 0 ? 0 : end - start + 1;
    res.writeHead(range ? 206 : 200, { ...common, 'content-length': String(length), ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}) });
    if (req.method === 'HEAD' || length === 0) return void res.end();
    bytesSent.set(path, (bytesSent.get(path) ?? 0) + length);
    createReadStream(file, { start, end }).pipe(res);
  };
  const server = createServer(handler);
  return new Promise((resolvePromise, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new CliError(`port ${port} on 127.0.0.1 is already in use`, { hint: 'pick another with --port N (or --port 0 for any free port)' }) : e),
    );
    server.listen(port, '127.0.0.1', () => {
      const addr = server.address();
      const actual = typeof addr === 'object' && addr ? addr.port : port;
      hosts = new Set([`127.0.0.1:${actual}`, `localhost:${actual}`]);
      resolvePromise({
        server,
        url: `http://127.0.0.1:${actual}/${served ? `?model=${encodeURIComponent(`model/${served.name}`)}` : ''}`,
        bytesSent,
        notServed: served?.notServed ?? [],
        close: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}

function openBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(cmd, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => process.stderr.write(`could not launch a browser (${cmd}); open ${url} yourself\n`));
  child.unref();
}

export default async function serve(model: string | undefined, opts: ServeCliOptions): Promise<number> {
  const port = opts.port;
  if (model !== undefined) {
    let st;
    try {
      st = statSync(model);
    } catch {
      throw new CliError(`cannot read '${model}'`, { hint: 'give the path of an ONNX file' });
    }
    if (!st.isFile()) throw new CliError(`'${model}' is not a file`);
  }
  const s = await serveStatic(prebuiltApp(), port, model === undefined ? undefined : resolve(model));
  process.stdout.write(`onnxkit app at ${s.url} (127.0.0.1 only; the model never leaves this machine). Ctrl-C to stop.\n`);
  if (s.notServed.length > 0) {
    process.stderr.write(`note: the model names external data that is not in its folder: ${s.notServed.map((f) => `'${f}'`).join(', ')}; the page will ask for it (analysis needs only the structure)\n`);
  }
  if (opts.open) openBrowser(s.url);
  // Ctrl-C stops the server as it stops any command once armed: 'onnxkit: interrupted', exit 130.
  armInterruption();
  await new Promise<void>((r) => {
    const stop = (): void => {
      void s.close().then(r);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
