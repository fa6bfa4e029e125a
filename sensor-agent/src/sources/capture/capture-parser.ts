/**
 * A streaming capture parser: takes a capture (pcap, pcapng or btsnoop, recognised from its first bytes) in
 * chunks of any size, as a file is read or as a tool writes it to a pipe, and hands every record to a
 * FrameHandler as a view into its buffer. A record split across chunks is reassembled once, with a single copy
 * of its bytes; complete records inside a chunk are never copied. Nothing of a chunk is kept once `push`
 * returns (the tail of a split record is copied), so the caller may read the next chunk into the same buffer.
 *
 * The copies are the parser's own: each is overwritten with zeros as soon as it has been parsed, so no frame bytes
 * stay behind in them (the caller zeroes its chunks; see SpawnedCapture and FileSource). What Node does not let
 * us clear: the kernel's pipe buffer and V8's own copies (none are made of these bytes on the counting path, but
 * a heap compaction may leave an old copy of a buffer's backing store until the memory is reused).
 */
import { BtsnoopFormat, isBtsnoopMagic } from './btsnoop-format.ts';
import { CaptureFormatError, type ContainerFormat, type FrameHandler } from './frame-handler.ts';
import { PcapFormat, isPcapMagic } from './pcap-format.ts';
import { PcapngFormat, isPcapngMagic } from './pcapng-format.ts';

const EMPTY = Buffer.alloc(0);

export class CaptureParser {
  #handler: FrameHandler;
  #format: ContainerFormat | null = null;
  /** Unparsed bytes: `#buf[#pos..]`, stream offset of `#buf[0]` is `#base`. */
  #buf: Buffer = Buffer.alloc(0);
  /** Whether `#buf` is a copy the parser made (zeroed when dropped), not the caller's chunk. */
  #owned = false;
  #pos = 0;
  #base = 0;
  /** Chunks waiting until there are enough bytes for the next unit. */
  #pending: Buffer[] = [];
  #pendingLen = 0;
  #bytes = 0;
  #ended = false;
  #warnings: string[] = [];

  constructor(handler: FrameHandler) {
    this.#handler = handler;
  }

  /** 'pcap', 'pcapng', 'btsnoop', or null before the first bytes. */
  get formatName(): string | null {
    return this.#format?.name ?? null;
  }

  /** Records read so far. */
  get records(): number {
    return this.#format?.records ?? 0;
  }

  /** Bytes taken so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Warnings from the container (truncated last record, skipped blocks, ...). */
  get warnings(): string[] {
    return [...this.#warnings, ...(this.#format?.warnings ?? [])];
  }

  /** Takes the next chunk; throws CaptureFormatError on a corrupt stream. */
  push(chunk: Buffer): void {
    if (this.#ended) throw new Error('CaptureParser.push after end');
    if (chunk.length === 0) return;
    this.#bytes += chunk.length;
    for (;;) {
      const left = this.#buf.length - this.#pos;
      if (left === 0 && this.#pending.length === 0) {
        // Nothing carried over: parse the chunk in place.
        this.#base += this.#buf.length;
        this.#setBuf(chunk, false);
        this.#pos = 0;
        this.#parse();
        this.#keepTail();
        return;
      }
      // A unit (header, record, block) is split across chunks: wait until it is complete, then copy only its
      // bytes into one buffer, parse it, and go on in the chunk itself.
      const need = this.#format?.need ?? 8;
      if (left + this.#pendingLen + chunk.length < need) {
        this.#pending.push(Buffer.from(chunk));
        this.#pendingLen += chunk.length;
        return;
      }
      const take = need - left - this.#pendingLen;
      this.#parseJoined(Buffer.concat([this.#buf.subarray(this.#pos), ...this.#pending, chunk.subarray(0, take)], need));
      chunk = chunk.subarray(take);
      if (this.#pos === this.#buf.length) {
        this.#base += this.#buf.length;
        this.#setBuf(chunk, false);
        this.#pos = 0;
        if (chunk.length > 0) this.#parse();
        this.#keepTail();
        return;
      }
      // The unit was complete but the next one (now known) needs more bytes: carry on with the rest of the chunk.
      if (chunk.length === 0) return;
    }
  }

  /** Parses `joined` (the unparsed bytes held, the pending chunks, and any more) in place of what was held. */
  #parseJoined(joined: Buffer): void {
    this.#base += this.#pos;
    this.#setBuf(joined, true);
    this.#pos = 0;
    for (const p of this.#pending) p.fill(0);
    this.#pending = [];
    this.#pendingLen = 0;
    this.#parse();
  }

  /**
   * Copies the unparsed tail of the caller's chunk (less than one record) so that nothing of the chunk is
   * referenced after `push` returns: the caller may reuse its buffer.
   */
  #keepTail(): void {
    const left = this.#buf.length - this.#pos;
    this.#base += this.#pos;
    this.#setBuf(left === 0 ? EMPTY : Buffer.from(this.#buf.subarray(this.#pos)), left > 0);
    this.#pos = 0;
  }

  /** Replaces the buffer being parsed; a copy of the parser's own that it replaces is overwritten with zeros. */
  #setBuf(next: Buffer, owned: boolean): void {
    if (this.#owned && this.#buf !== next) this.#buf.fill(0);
    this.#buf = next;
    this.#owned = owned;
  }

  /** The stream has ended: a partial last record becomes a warning, a partial file header an error. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#pending.length > 0) {
      const left = this.#buf.length - this.#pos;
      this.#parseJoined(Buffer.concat([this.#buf.subarray(this.#pos), ...this.#pending], left + this.#pendingLen));
    }
    const left = this.#buf.length - this.#pos;
    const offset = this.#base + this.#pos;
    if (this.#bytes === 0) throw new CaptureFormatError('empty capture: no bytes at all', 0);
    const format = this.#format;
    if (format === null || !format.headerComplete) {
      throw new CaptureFormatError(`truncated capture: the stream ends inside the file header after ${this.#bytes} bytes`, offset);
    }
    if (left > 0) {
      this.#warnings.push(`truncated last record at byte offset ${offset}: ${left} of ${format.need} bytes present; the rest of the capture was read`);
    }
    this.#setBuf(EMPTY, false);
    this.#pos = 0;
  }

  #parse(): void {
    const buf = this.#buf;
    if (this.#format === null) {
      if (buf.length - this.#pos < 8) return;
      this.#format = this.#detect(buf, this.#pos);
    }
    this.#pos = this.#format.parse(buf, this.#pos, buf.length, this.#base);
  }

  #detect(buf: Buffer, p: number): ContainerFormat {
    if (isPcapMagic(buf, p)) return new PcapFormat(this.#handler);
    if (isPcapngMagic(buf, p)) return new PcapngFormat(this.#handler);
    if (isBtsnoopMagic(buf, p)) return new BtsnoopFormat(this.#handler);
    throw new CaptureFormatError('not a capture file: expected pcap, pcapng or btsnoop magic bytes', this.#base + p);
  }
}
