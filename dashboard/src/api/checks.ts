/** Checks of the API's answers: the API is not trusted to be well-formed, so every response is checked before use. */
import type { SeriesResponse } from '@passant/shared';
import {
  HOURS_OF_WEEK,
  ROLES,
  SENSOR_STATES,
  isRadio,
  type Audit,
  type ComparedPeriod,
  type Comparison,
  type LiveEvent,
  type Me,
  type Noise,
  type Period,
  type PrivacyInfo,
  type Profile,
  type PublicScope,
  type SensorHealth,
  type SensorHealthReport,
  type SiteInfo,
  type ZoneInfo,
} from './types.ts';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** A released value: a count, or (with noise on open data) rarely a small negative number. */
export function isValue(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

export function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

function isStep(value: unknown): value is Comparison['step'] {
  return value === 60 || value === 3600 || value === 86400;
}

export function isNullableTime(value: unknown): value is number | null {
  return value === null || isTime(value);
}

export function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((x) => typeof x === 'string');
}

function isScope(value: unknown): value is PublicScope {
  return value === 'none' || value === 'all' || isStringList(value);
}

function isNoise(value: unknown): value is Noise {
  return isRecord(value) && isValue(value.epsilon) && value.mechanism === 'geometric';
}

function optionalNoise(value: Record<string, unknown>): boolean {
  return value.noise === undefined || isNoise(value.noise);
}

export function isMe(value: unknown): value is Me {
  return (
    isRecord(value) &&
    typeof value.role === 'string' &&
    (ROLES as readonly string[]).includes(value.role) &&
    (value.name === null || typeof value.name === 'string') &&
    (value.zones === 'all' || isStringList(value.zones)) &&
    (value.sites === 'all' || isStringList(value.sites)) &&
    typeof value.health === 'boolean' &&
    typeof value.audit === 'boolean' &&
    typeof value.admin === 'boolean'
  );
}

export function isZoneInfo(value: unknown): value is ZoneInfo {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    value.id !== '' &&
    typeof value.name === 'string' &&
    (value.site === undefined || value.site === null || typeof value.site === 'string')
  );
}

export function isSiteInfo(value: unknown): value is SiteInfo {
  return isRecord(value) && typeof value.id === 'string' && value.id !== '' && typeof value.name === 'string' && isStringList(value.zones);
}

/** True for `{ t: number[], devices: (number|null)[], suppressed: number[] }` with arrays of one length. */
export function isSeriesResponse(value: unknown): value is SeriesResponse {
  if (!isRecord(value)) return false;
  const { t, devices, suppressed } = value;
  return (
    Array.isArray(t) &&
    Array.isArray(devices) &&
    Array.isArray(suppressed) &&
    devices.length === t.length &&
    suppressed.length === t.length &&
    t.every(isTime) &&
    devices.every((x) => x === null || isValue(x)) &&
    suppressed.every(isCount) &&
    optionalNoise(value)
  );
}

function isPeriod(value: unknown): value is Period {
  return (
    isRecord(value) &&
    isTime(value.from) &&
    isTime(value.to) &&
    (value.total === null || isValue(value.total)) &&
    isCount(value.suppressedCells) &&
    value.noise === undefined &&
    isSeriesResponse(value)
  );
}

function isComparedPeriod(value: unknown): value is ComparedPeriod {
  return isRecord(value) && (value.change === null || isValue(value.change)) && isPeriod(value);
}

export function isComparison(value: unknown): value is Comparison {
  if (!isRecord(value) || !isRadio(value.radio) || !isStep(value.step) || !optionalNoise(value)) return false;
  return isPeriod(value.current) && isComparedPeriod(value.previous) && isComparedPeriod(value.lastWeek);
}

export function isProfile(value: unknown): value is Profile {
  if (!isRecord(value)) return false;
  const { mean, hours, suppressed } = value;
  return (
    isCount(value.weeks) &&
    typeof value.tz === 'string' &&
    isRadio(value.radio) &&
    isTime(value.from) &&
    isTime(value.to) &&
    Array.isArray(mean) &&
    mean.length === HOURS_OF_WEEK &&
    mean.every((x) => x === null || isValue(x)) &&
    Array.isArray(hours) &&
    hours.length === HOURS_OF_WEEK &&
    hours.every(isCount) &&
    Array.isArray(suppressed) &&
    suppressed.length === HOURS_OF_WEEK &&
    suppressed.every(isCount) &&
    optionalNoise(value)
  );
}

function isSensorHealth(value: unknown): value is SensorHealth {
  return (
    isRecord(value) &&
    typeof value.sensorId === 'string' &&
    typeof value.zoneId === 'string' &&
    (SENSOR_STATES as readonly unknown[]).includes(value.state) &&
    isNullableTime(value.lastMessageAt) &&
    isNullableTime(value.lastWindowStart) &&
    isCount(value.messagesLastHour) &&
    isCount(value.missingLastHour) &&
    isCount(value.missingLastDay) &&
    (value.version === null || typeof value.version === 'string') &&
    (value.activeUntil === null || typeof value.activeUntil === 'string') &&
    typeof value.ended === 'boolean'
  );
}

export function isSensorHealthReport(value: unknown): value is SensorHealthReport {
  return isRecord(value) && isTime(value.asOf) && isCount(value.windowSeconds) && Array.isArray(value.sensors) && value.sensors.every(isSensorHealth);
}

function isShare(value: unknown): value is number | null {
  return value === null || (isValue(value) && value >= 0 && value <= 1);
}

export function isPrivacyInfo(value: unknown): value is PrivacyInfo {
  if (!isRecord(value)) return false;
  const { retention, suppressedShare: share, publicAccess } = value;
  return (
    isCount(value.k) &&
    isCount(value.windowSeconds) &&
    isCount(value.settleSeconds) &&
    isRecord(retention) &&
    Object.values(retention).every((v) => v === null || isCount(v)) &&
    isRecord(share) &&
    isCount(share.periodSeconds) &&
    isShare(share.wifi) &&
    isShare(share.ble) &&
    (value.noise === null || isNoise(value.noise)) &&
    isRecord(publicAccess) &&
    isScope(publicAccess.zones) &&
    isScope(publicAccess.sites) &&
    isRecord(value.countsSchema)
  );
}

function isCountRecord(value: unknown): value is Record<string, number> {
  return isRecord(value) && Object.values(value).every(isCount);
}

export function isAudit(value: unknown): value is Audit {
  if (!isRecord(value) || !isTime(value.since)) return false;
  const { ingest, statusMessages, tokens } = value;
  return (
    isRecord(ingest) &&
    isCount(ingest.stored) &&
    isCount(ingest.duplicate) &&
    isCountRecord(ingest.rejected) &&
    isRecord(statusMessages) &&
    isCount(statusMessages.accepted) &&
    isCount(statusMessages.rejected) &&
    isCountRecord(tokens)
  );
}

/** The event in an SSE `data` field, or null when it is not a well-formed live event. */
export function parseLiveEvent(data: string): LiveEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (!isRecord(value)) return null;
  const { zoneId, radio, t, devices, suppressed } = value;
  if (typeof zoneId !== 'string' || !isRadio(radio)) return null;
  if (typeof t !== 'number' || !Number.isInteger(t)) return null;
  if (!(devices === null || isCount(devices)) || !isCount(suppressed)) return null;
  return { zoneId, radio, t, devices, suppressed };
}
