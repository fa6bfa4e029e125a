/** pino, JSON lines on stdout; components take a child logger (`logger.child({ component: 'ingest' })`). */
import { pino } from 'pino';
import type { Logger } from 'pino';

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options = { name: 'passant-aggregator', level, base: { pid: process.pid } };
  return destination ? pino(options, destination) : pino(options);
}
