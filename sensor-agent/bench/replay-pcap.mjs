#!/usr/bin/env node
// Replays the records of a pcap file to stdout as a live capture tool would write them: the pcap file header at
// once, then RATE records a second (paced every 10 ms), each stamped with the current time, cycling through the
// file. RATE 0 writes the header only and then holds the pipe open, like tcpdump on a quiet channel. With a
// third argument, the bytes the pipe took are also written to that file (the bench counts it with
// `passant-sensor count` to know how many frames the agent should have counted). On SIGTERM it stops making
// records, writes out what it has queued, and exits, as tcpdump does. Plain JavaScript: it starts without a compiler.
//
//   node replay-pcap.mjs FILE RATE [TEE_FILE]
import fs from 'node:fs';

const [file, rateArg, teeFile] = process.argv.slice(2);
const rate = Number(rateArg);
if (file === undefined || !Number.isFinite(rate) || rate < 0) {
  process.stderr.write('usage: replay-pcap.mjs FILE RATE [TEE_FILE]\n');
  process.exit(2);
}

const data = fs.readFileSync(file);
const magic = data.readUInt32LE(0);
const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
if (!le && data.readUInt32BE(0) !== 0xa1b2c3d4 && data.readUInt32BE(0) !== 0xa1b23c4d) {
  process.stderr.write('replay-pcap: not a pcap file\n');
  process.exit(2);
}
const nanos = (le ? magic : data.readUInt32BE(0)) === 0xa1b23c4d;
const header = data.subarray(0, 24);
const records = [];
for (let p = 24; p + 16 <= data.length; ) {
  const incl = le ? data.readUInt32LE(p + 8) : data.readUInt32BE(p + 8);
  if (p + 16 + incl > data.length) break;
  records.push(data.subarray(p, p + 16 + incl));
  p += 16 + incl;
}
if (records.length === 0) {
  process.stderr.write('replay-pcap: no records\n');
  process.exit(2);
}

const tee = teeFile !== undefined ? fs.openSync(teeFile, 'w') : null;
let stopped = false;
const exit = () => {
  if (tee !== null) fs.closeSync(tee);
  process.exit(0);
};
// Stopped like tcpdump: no new records, what was written goes out, then exit.
const stop = () => {
  stopped = true;
  // setImmediate: after the write callbacks (process.nextTick) have put the last bytes in the tee file.
  if (process.stdout.writableLength === 0) setImmediate(exit);
  else process.stdout.once('drain', () => setImmediate(exit));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdout.on('error', exit); // the reader went away (EPIPE)

/** Writes to the pipe; the tee file gets the bytes once the pipe took them (what a reader can have read). */
function write(buf) {
  return process.stdout.write(buf, (err) => {
    if (err == null && tee !== null) fs.writeSync(tee, buf);
  });
}

write(header);
if (rate === 0) {
  setInterval(() => undefined, 1 << 30); // hold the pipe open until killed
} else {
  const startMs = Date.now();
  let sent = 0;
  let next = 0;
  const tick = () => {
    if (stopped) return;
    const nowMs = Date.now();
    const due = Math.floor(((nowMs - startMs) * rate) / 1000);
    const n = due - sent;
    if (n > 0) {
      const parts = [];
      for (let i = 0; i < n; i++) {
        const rec = Buffer.from(records[next]);
        next = (next + 1) % records.length;
        const sec = Math.floor(nowMs / 1000);
        const frac = nanos ? (nowMs % 1000) * 1e6 : (nowMs % 1000) * 1000;
        if (le) {
          rec.writeUInt32LE(sec, 0);
          rec.writeUInt32LE(frac, 4);
        } else {
          rec.writeUInt32BE(sec, 0);
          rec.writeUInt32BE(frac, 4);
        }
        parts.push(rec);
      }
      sent = due;
      write(Buffer.concat(parts));
    }
    setTimeout(tick, 10);
  };
  tick();
}
