/**
 * The InfluxDB store's connection: writes line protocol, runs InfluxQL, pings. Everything goes through
 * `@influxdata/influxdb-client` (its write API for v2, its HTTP transport for the rest), which carries the
 * token, time limit and TLS/proxy options.
 *
 * - v2 writes: `getWriteApi(org, bucket, 's')` -> `POST /api/v2/write` (InfluxDB 2.x, 3.x, Cloud, 1.8+).
 * - v1 writes: `POST /write?db=&rp=&precision=s` (InfluxDB 1.x; the client's write API has no way to set that path).
 * - reads: InfluxQL on `POST /query?db=&rp=&epoch=s` (1.x; 2.x through its DBRP mapping; 3.x).
 */
import { HttpError, InfluxDB, type WriteApi } from '@influxdata/influxdb-client';
import { StoreError } from '../errors.ts';
import type { InfluxConfig } from './influx-config.ts';

/** An InfluxDB request failed: the server is unreachable, refused it, or answered with an error. */
export class InfluxStoreError extends StoreError {
  /** HTTP status when the server answered, else undefined. */
  readonly statusCode: number | undefined;
  /** True when the server cut the answer short (its row limit): a shorter range may work. */
  readonly partial: boolean;
  constructor(message: string, options?: { cause?: unknown; statusCode?: number; partial?: boolean }) {
    super(message, { cause: options?.cause });
    this.name = 'InfluxStoreError';
    this.statusCode = options?.statusCode;
    this.partial = options?.partial ?? false;
  }
}

/** One series of an InfluxQL result. */
export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
  partial?: boolean;
}

interface InfluxQlResponse {
  error?: string;
  results?: { statement_id?: number; error?: string; partial?: boolean; series?: InfluxSeries[] }[];
}

/** Statements per /query request of exec(). */
const EXEC_STATEMENTS_PER_REQUEST = 200;

/** Longest piece of a server's error text put into our messages. */
const MAX_DETAIL_CHARS = 300;

function describeFailure(what: string, err: unknown): InfluxStoreError {
  if (err instanceof InfluxStoreError) return err;
  if (err instanceof HttpError) {
    const json = err.json as { error?: unknown; message?: unknown } | undefined;
    const detail = String(json?.error ?? json?.message ?? err.body ?? err.statusMessage ?? '').slice(0, MAX_DETAIL_CHARS);
    return new InfluxStoreError(`${what} failed: HTTP ${err.statusCode}${detail ? `: ${detail}` : ''}`, {
      cause: err,
      statusCode: err.statusCode,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new InfluxStoreError(`${what} failed: ${message.slice(0, MAX_DETAIL_CHARS)}`, { cause: err });
}

export class InfluxHttp {
  private readonly client: InfluxDB;

  constructor(private readonly config: InfluxConfig) {
    const headers: Record<string, string> = {};
    if (config.username !== undefined && config.password !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${config.username}:${config.password}`).toString('base64')}`;
    }
    this.client = new InfluxDB({ url: config.url, token: config.token, timeout: config.timeoutMs, headers });
  }

  /** Writes lines of line protocol (timestamps in seconds), at most `writeBatchLines` per request, in order. */
  async write(lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    const size = this.config.writeBatchLines;
    if (this.config.apiVersion === 'v1') {
      for (let i = 0; i < lines.length; i += size) await this.writeV1(lines.slice(i, i + size));
      return;
    }
    // One write API per call, so that concurrent calls do not share buffers or errors. It never flushes on its own
    // (no timer, batch larger than a chunk) and never retries: put() fails and the caller retries the messages.
    const writeApi: WriteApi = this.client.getWriteApi(this.config.org, this.config.bucket, 's', {
      batchSize: size + 1,
      maxBatchBytes: Number.MAX_SAFE_INTEGER,
      flushInterval: 0,
      maxRetries: 0,
      // Returning a promise replaces the library's own handling (console logging, retry buffer).
      writeFailed: (error) => Promise.reject(error),
    });
    try {
      for (let i = 0; i < lines.length; i += size) {
        writeApi.writeRecords(lines.slice(i, i + size));
        await writeApi.flush();
      }
    } catch (err) {
      throw describeFailure('InfluxDB write (/api/v2/write)', err);
    } finally {
      writeApi.dispose();
    }
  }

  private async writeV1(lines: string[]): Promise<void> {
    const params = new URLSearchParams({ db: this.config.database, precision: 's' });
    if (this.config.retentionPolicy !== undefined) params.set('rp', this.config.retentionPolicy);
    try {
      await this.client.transport.request(`/write?${params}`, lines.join('\n'), {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
      });
    } catch (err) {
      throw describeFailure('InfluxDB write (/write)', err);
    }
  }

  /**
   * Runs one InfluxQL SELECT and returns its series. Throws on an HTTP error, a statement error (unknown database,
   * bad syntax) and a partial result (the server's row limit cut it short: a silent truncation would be wrong data).
   */
  async query(statement: string): Promise<InfluxSeries[]> {
    const params = new URLSearchParams({ db: this.config.database, epoch: 's' });
    if (this.config.retentionPolicy !== undefined) params.set('rp', this.config.retentionPolicy);
    let response: InfluxQlResponse;
    try {
      response = (await this.client.transport.request(`/query?${params}`, new URLSearchParams({ q: statement }).toString(), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      })) as InfluxQlResponse;
    } catch (err) {
      throw describeFailure('InfluxQL query (/query)', err);
    }
    const result = response?.results?.[0];
    const error = response?.error ?? result?.error;
    if (error !== undefined) throw new InfluxStoreError(`InfluxQL query (/query) failed: ${String(error).slice(0, MAX_DETAIL_CHARS)}`);
    if (result === undefined) throw new InfluxStoreError('InfluxQL query (/query) failed: the answer has no result');
    const series = result.series ?? [];
    if (result.partial === true || series.some((s) => s.partial === true)) {
      throw new InfluxStoreError("InfluxQL query (/query) returned a partial result: raise the server's max-row-limit or query a shorter range", {
        partial: true,
      });
    }
    return series;
  }

  /**
   * Runs InfluxQL statements that return no rows (DELETE), several per request, and throws on any statement's
   * error. v1 only: InfluxDB 2.x takes no DELETE on /query (see deleteV2).
   */
  async exec(statements: string[]): Promise<void> {
    const params = new URLSearchParams({ db: this.config.database });
    if (this.config.retentionPolicy !== undefined) params.set('rp', this.config.retentionPolicy);
    for (let i = 0; i < statements.length; i += EXEC_STATEMENTS_PER_REQUEST) {
      const chunk = statements.slice(i, i + EXEC_STATEMENTS_PER_REQUEST);
      let response: InfluxQlResponse;
      try {
        response = (await this.client.transport.request(`/query?${params}`, new URLSearchParams({ q: chunk.join(';\n') }).toString(), {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        })) as InfluxQlResponse;
      } catch (err) {
        throw describeFailure('InfluxQL statement (/query)', err);
      }
      const error = response?.error ?? response?.results?.find((r) => r.error !== undefined)?.error;
      if (error !== undefined) throw new InfluxStoreError(`InfluxQL statement (/query) failed: ${String(error).slice(0, MAX_DETAIL_CHARS)}`);
    }
  }

  /**
   * Deletes points through `POST /api/v2/delete` (InfluxDB 2.x): `predicate` (tag equalities joined by AND),
   * times `start` to `stop` inclusive, RFC 3339.
   */
  async deleteV2(start: string, stop: string, predicate: string): Promise<void> {
    const params = new URLSearchParams({ org: this.config.org, bucket: this.config.bucket });
    try {
      await this.client.transport.request(`/api/v2/delete?${params}`, JSON.stringify({ start, stop, predicate }), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      });
    } catch (err) {
      throw describeFailure('InfluxDB delete (/api/v2/delete)', err);
    }
  }

  /** True when the server answers `/ping` with a 2xx status (204 on 1.x and 2.x, 200 on 3.x). */
  async ping(): Promise<boolean> {
    try {
      await this.client.transport.request('/ping', '', { method: 'GET' });
      return true;
    } catch {
      return false;
    }
  }
}
