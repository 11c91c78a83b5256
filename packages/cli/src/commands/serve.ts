/**
 * `onnxkit serve [MODEL] [--port N] [--open]`: builds the browser app and serves it on
 * 127.0.0.1 only. The server serves files and nothing else (GET/HEAD, no uploads, no API); all
 * computation happens in the page. With MODEL, the file is also served read-only at
 * `/model/<name>` and the page opens it on load. Paths that leave the app folder are refused.
 */
import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, realpathSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, extname, join, resolve, sep } from 'node:path';
import { CliError } from '../errors.js';
import { intOption } from '../program.js';
import { buildApp } from '../app-build.js';

export interface ServeCliOptions {
  port?: string;
  open?: boolean;
}

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
  close(): Promise<void>;
}

/**
 * Serves `root` (and optionally one model file at /model/<name>) on 127.0.0.1:`port`
 * (0 = any free port). Resolves the URL once listening.
 */
export function serveStatic(root: string, port: number, model?: string): Promise<StaticServer> {
  const realRoot = realpathSync(root);
  const modelName = model ? basename(model) : undefined;
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const send = (status: number, text: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
      res.end(req.method === 'HEAD' ? undefined : text + '\n');
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'this server only serves files (GET)');
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    } catch {
      return send(400, 'bad request path');
    }
    if (path.includes('\0') || path.split('/').includes('..') || path.includes('\\')) return send(403, 'path refused');
    let file: string;
    if (model && modelName && path === `/model/${modelName}`) file = model;
    else {
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
    res.writeHead(200, {
      'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': String(size),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file).pipe(res);
  };
  const server = createServer(handler);
  return new Promise((resolvePromise, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new CliError(`port ${port} on 127.0.0.1 is already in use`, { hint: 'pick another with --port N (or --port 0 for any free port)' }) : e),
    );
    server.listen(port, '127.0.0.1', () => {
      const addr = server.address();
      const actual = typeof addr === 'object' && addr ? addr.port : port;
      resolvePromise({
        server,
        url: `http://127.0.0.1:${actual}/${modelName ? `?model=${encodeURIComponent(`model/${modelName}`)}` : ''}`,
        close: () => new Promise((r) => server.close(() => r())),
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
  const port = intOption('--port', opts.port, { min: 0 }) ?? 8080;
  if (port > 65535) throw new CliError(`--port ${port} is not a TCP port (0–65535)`);
  if (model !== undefined) {
    let st;
    try {
      st = statSync(model);
    } catch {
      throw new CliError(`cannot read '${model}'`, { hint: 'give the path of an ONNX file' });
    }
    if (!st.isFile()) throw new CliError(`'${model}' is not a file`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'onnxkit-app-'));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    await buildApp(dir);
    const s = await serveStatic(dir, port, model === undefined ? undefined : resolve(model));
    process.stdout.write(`onnxkit app at ${s.url} (127.0.0.1 only; the model never leaves this machine). Ctrl-C to stop.\n`);
    if (opts.open) openBrowser(s.url);
    await new Promise<void>((r) => {
      const stop = (): void => {
        void s.close().then(r);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  } finally {
    cleanup();
  }
  return 0;
}
