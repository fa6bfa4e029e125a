import { describe, expect, it } from 'vitest';
import { LANGS, MESSAGES, intlLocale, isLang, pickLang, translate, type MessageKey } from '../src/i18n.ts';

describe('pickLang', () => {
  it.each([
    [{ query: 'nl', stored: 'en', navigatorLanguage: 'en-US' }, 'nl'],
    [{ query: 'EN', stored: 'nl', navigatorLanguage: 'nl-NL' }, 'en'],
    [{ query: 'fr', stored: 'nl', navigatorLanguage: 'en-US' }, 'nl'], // unknown ?lang= falls through
    [{ query: null, stored: 'en', navigatorLanguage: 'nl-BE' }, 'en'],
    [{ query: null, stored: 'xx', navigatorLanguage: 'nl-BE' }, 'nl'],
    [{ navigatorLanguage: 'nl' }, 'nl'],
    [{ navigatorLanguage: 'NL-nl' }, 'nl'],
    [{ navigatorLanguage: 'de-DE' }, 'en'],
    [{ navigatorLanguage: 'en-GB' }, 'en'],
    [{}, 'en'],
  ] as const)('%j -> %s', (choice, expected) => {
    expect(pickLang(choice)).toBe(expected);
  });
});

describe('messages', () => {
  it('has every key in both languages, none empty', () => {
    const keys = Object.keys(MESSAGES.en).sort();
    expect(Object.keys(MESSAGES.nl).sort()).toEqual(keys);
    for (const lang of LANGS) for (const key of keys) expect(MESSAGES[lang][key as MessageKey].trim()).not.toBe('');
  });

  it('uses the same placeholders in both languages', () => {
    const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(MESSAGES.en) as MessageKey[]) {
      expect(placeholders(MESSAGES.nl[key]), key).toEqual(placeholders(MESSAGES.en[key]));
    }
  });

  it('carries the motto in both languages', () => {
    expect(translate('nl', 'motto')).toBe('tellen mag, volgen niet');
    expect(translate('en', 'motto')).toBe('counting is allowed, tracking is not');
  });
});

describe('translate', () => {
  it('fills placeholders and leaves unknown ones', () => {
    expect(translate('en', 'statHiddenValue', { n: 3, total: 120 })).toBe('3 of 120');
    expect(translate('nl', 'statHiddenValue', { n: 3, total: 120 })).toBe('3 van 120');
    expect(translate('en', 'statHiddenValue', { n: 3 })).toBe('3 of {total}');
  });

  it('does not read inherited properties as parameters', () => {
    expect(translate('en', 'apiDown', {})).toContain('{s}');
  });
});

describe('intlLocale', () => {
  it('is Dutch for nl and the browser English (or en-GB) for en', () => {
    expect(intlLocale('nl', 'en-US')).toBe('nl-NL');
    expect(intlLocale('en', 'en-US')).toBe('en-US');
    expect(intlLocale('en', 'nl-NL')).toBe('en-GB');
    expect(intlLocale('en', 'en-!!')).toBe('en-GB');
    expect(intlLocale('en', undefined)).toBe('en-GB');
  });

  it('knows its languages', () => {
    expect(isLang('nl')).toBe(true);
    expect(isLang('de')).toBe(false);
  });
});
