/** Ids of sensors, zones, sites and aggregators: lower-case, safe in MQTT topics, URLs and file names. */
export const ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;

export function isValidId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** Throws a clear error for an id that breaks the rule; used where an id enters from config or the command line. */
export function assertValidId(id: string, what = 'id'): string {
  if (!isValidId(id)) {
    throw new Error(
      `${what} ${JSON.stringify(id.slice(0, 80))} is not valid: use 1 to 64 characters a-z, 0-9 and '-', starting with a letter or digit`,
    );
  }
  return id;
}
