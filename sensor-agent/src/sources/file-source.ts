/**
 * A Source that reads capture files (pcap, pcapng, btsnoop; see capture/) one after another as one stream of
 * detections. Files are read in large chunks; after each chunk the highest capture time seen so far is
 * reported through `onWatermark`, so a WindowCounter can close the windows that no frame can reach any more.
 * The read buffer is overwritten with zeros after each chunk is parsed. (Node's file reads copy nothing of it
 * elsewhere in the process; the kernel's page cache keeps the file, which is on disk anyway.)
 */
import fs from 'node:fs';
import { CaptureParser } from './capture/capture-parser.ts';
import { FrameDissector, type SkipCounts } from './capture/frame-dissector.ts';
import { CaptureFormatError } from './capture/frame-handler.ts';
import type { Logger } from '../log.ts';
import type { DetectionSink, Source, SourceSummary } from '../pipeline/types.ts';

export interface FileProgress {
  file: string;
  /** Index of the file in the list (0-based) and the number of files. */
  index: number;
  count: number;
  bytesRead: number;
  fileBytes: number;
  records: number;
}

export interface FileSourceOptions {
  /** Called after every chunk with the highest capture time (Unix ms) seen so far; awaited. */
  onWatermark?: (maxTimeMs: number) => void | Promise<void>;
  /** Called after every chunk. */
  onProgress?: (progress: FileProgress) => void;
  /** Read size; default 1 MiB. */
  chunkBytes?: number;
  /** Lifecycle lines (file started, done, warnings); never frame data. */
  logger?: Logger;
}

export interface FileSourceSummary extends SourceSummary {
  files: number;
  bytes: number;
  skipped: SkipCounts;
}

/** A capture file that cannot be read or parsed; the message names the file (and the byte offset when known). */
export class CaptureFileError extends Error {
  readonly file: string;
  readonly byteOffset: number | null;
  constructor(file: string, message: string, byteOffset: number | null, options?: { cause?: unknown }) {
    super(`${file}: ${message}`, options);
    this.name = 'CaptureFileError';
    this.file = file;
    this.byteOffset = byteOffset;
  }
}

export class FileSource implements Source {
  readonly #files: string[];
  readonly #opts: FileSourceOptions;
  #closed = false;
  #handle: fs.promises.FileHandle | null = null;

  constructor(files: string[], opts: FileSourceOptions = {}) {
    this.#files = [...files];
    this.#opts = opts;
  }

  async run(sink: DetectionSink): Promise<FileSourceSummary> {
    let maxTimeMs = -Infinity;
    // Tracks the watermark on the way to the sink.
    const tracking: DetectionSink = {
      detect(timeMs, radio, buf, offset, randomized, rssi) {
        if (timeMs > maxTimeMs) maxTimeMs = timeMs;
        sink.detect(timeMs, radio, buf, offset, randomized, rssi);
      },
    };
    const dissector = new FrameDissector(tracking);
    const warnings: string[] = [];
    let records = 0;
    let bytes = 0;
    let files = 0;
    // One read buffer for all files: the parser keeps nothing of a chunk once it has taken it.
    const chunk = Buffer.allocUnsafe(this.#opts.chunkBytes ?? 1 << 20);
    for (const [index, file] of this.#files.entries()) {
      if (this.#closed) break;
      const fileBytes = await fileSize(file);
      const parser = new CaptureParser(dissector);
      this.#opts.logger?.info({ file, bytes: fileBytes }, 'reading capture file');
      let handle: fs.promises.FileHandle | null = null;
      try {
        handle = await fs.promises.open(file, 'r');
        this.#handle = handle;
        for (;;) {
          const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
          if (bytesRead === 0 || this.#closed) break;
          parser.push(bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead));
          // Counted: no frame bytes stay in the read buffer (nor in the parser's copies, which it zeroes itself).
          chunk.fill(0, 0, bytesRead);
          this.#opts.onProgress?.({ file, index, count: this.#files.length, bytesRead: parser.bytes, fileBytes, records: parser.records });
          if (this.#opts.onWatermark !== undefined && maxTimeMs > -Infinity) await this.#opts.onWatermark(maxTimeMs);
        }
        if (!this.#closed) parser.end();
      } catch (err) {
        if (err instanceof CaptureFormatError) throw new CaptureFileError(file, err.message, err.byteOffset, { cause: err });
        throw new CaptureFileError(file, describeIoError(err), null, { cause: err });
      } finally {
        this.#handle = null;
        await handle?.close();
      }
      files++;
      records += parser.records;
      bytes += parser.bytes;
      for (const w of parser.warnings) warnings.push(`${file}: ${w}`);
      this.#opts.logger?.info({ file, format: parser.formatName, records: parser.records }, 'capture file done');
    }
    for (const w of dissector.warnings) warnings.push(w);
    return { files, records, bytes, detections: dissector.detections, warnings, skipped: { ...dissector.skipped } };
  }

  /** Stops after the current chunk; `run` then resolves with what was read. */
  async close(): Promise<void> {
    this.#closed = true;
  }
}

async function fileSize(file: string): Promise<number> {
  try {
    const st = await fs.promises.stat(file);
    if (!st.isFile()) throw new CaptureFileError(file, 'not a regular file', null);
    return st.size;
  } catch (err) {
    if (err instanceof CaptureFileError) throw err;
    throw new CaptureFileError(file, describeIoError(err), null, { cause: err });
  }
}

function describeIoError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return err instanceof Error ? err.message : String(err);
}
