/** Sensor health (never counts), the privacy facts and the audit. */
import { isAudit, isPrivacyInfo, isSensorHealthReport } from './checks.ts';
import { bad, getJson } from './http.ts';
import type { Audit, PrivacyInfo, SensorHealthReport } from './types.ts';

export async function fetchSensorHealth(): Promise<SensorHealthReport> {
  const body = await getJson('api/v1/sensors');
  if (!isSensorHealthReport(body)) throw bad('a sensor health report');
  return body;
}

export async function fetchPrivacy(): Promise<PrivacyInfo> {
  const body = await getJson('api/v1/privacy');
  if (!isPrivacyInfo(body)) throw bad('the privacy facts {k, retention, countsSchema, ...}');
  return body;
}

export async function fetchAudit(): Promise<Audit> {
  const body = await getJson('api/v1/privacy/audit');
  if (!isAudit(body)) throw bad('audit data');
  return body;
}
