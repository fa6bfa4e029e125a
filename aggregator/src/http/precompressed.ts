/**
 * The dashboard's large static files (app.js, app.css) compressed once, at build (dashboard/build.mjs writes
 * `app.js.br` and `app.js.gz` next to `app.js`), instead of by the compression middleware on every request (app.js
 * took ~20 ms to gzip each time, and brotli at its best is too slow to run per request). A request for `/NAME` whose
 * client accepts brotli or gzip gets `NAME.br` or `NAME.gz` when the build made one; anything else falls through to
 * express.static (and the compression middleware). A file is read once and kept in memory until it changes on disk.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { NextFunction, Request, Response } from 'express';

/** Served precompressed: one name in the folder, no subfolders (a dist/ file is never nested for these). */
const NAME = /^\/[\w-]+(?:\.[\w-]+)*\.(?:js|css)$/;
const ENCODINGS = [
  { name: 'br', suffix: '.br' },
  { name: 'gzip', suffix: '.gz' },
] as const;

export function precompressedFiles(dir: string, onServe: (res: Response) => void = () => {}) {
  const root = path.resolve(dir);
  const cache = new Map<string, { mtimeMs: number; size: number; body: Buffer; etag: string }>();
  async function load(file: string): Promise<{ body: Buffer; etag: string } | null> {
    const info = await stat(file).catch(() => null);
    if (info === null || !info.isFile()) {
      cache.delete(file);
      return null;
    }
    const hit = cache.get(file);
    if (hit !== undefined && hit.mtimeMs === info.mtimeMs && hit.size === info.size) return hit;
    const body = await readFile(file);
    // Weak, as express.static makes its own (size and time), and one per encoding (they are different bytes).
    const entry = { mtimeMs: info.mtimeMs, size: info.size, body, etag: `W/"${path.extname(file).slice(1)}-${body.length.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"` };
    cache.set(file, entry);
    return entry;
  }
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !NAME.test(req.path)) return next();
    // Brotli whenever it is accepted (a browser lists gzip first, with the same weight).
    const encoding = ENCODINGS.find((e) => req.acceptsEncodings(e.name) === e.name);
    if (encoding === undefined) return next();
    try {
      const original = path.join(root, req.path);
      if (path.dirname(original) !== root) return next();
      // Only while the original is there too (a stale .br of a removed file is never served).
      if ((await stat(original).catch(() => null))?.isFile() !== true) return next();
      const file = await load(original + encoding.suffix);
      if (file === null) return next();
      onServe(res);
      res.setHeader('Vary', 'Accept-Encoding');
      res.setHeader('Content-Encoding', encoding.name);
      res.setHeader('Cache-Control', 'public, max-age=0');
      res.setHeader('ETag', file.etag);
      res.type(path.extname(original));
      res.send(file.body); // sets the length, answers a fresh conditional request (its ETag) with 304, and HEAD
    } catch (err) {
      next(err);
    }
  };
}
