/**
 * Intl formats made once per locale and options. Making an `Intl.NumberFormat` or `Intl.DateTimeFormat` costs far
 * more than using one (it loads the locale's data); a page of cards, each rendering its figures, table and
 * heatmap, and a data table formatting each of its 1,440 minutes, would otherwise make thousands.
 */
const NUMBER = new Map<string, Intl.NumberFormat>();
const DATE = new Map<string, Intl.DateTimeFormat>();

function cached<T>(cache: Map<string, T>, locale: string, options: object, make: () => T): T {
  const key = `${locale}|${JSON.stringify(options)}`;
  let format = cache.get(key);
  if (format === undefined) {
    format = make();
    cache.set(key, format);
  }
  return format;
}

export function numberFormat(locale: string, options: Intl.NumberFormatOptions = {}): Intl.NumberFormat {
  return cached(NUMBER, locale, options, () => new Intl.NumberFormat(locale, options));
}

export function dateFormat(locale: string, options: Intl.DateTimeFormatOptions = {}): Intl.DateTimeFormat {
  return cached(DATE, locale, options, () => new Intl.DateTimeFormat(locale, options));
}
