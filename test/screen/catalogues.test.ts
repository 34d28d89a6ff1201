import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SCREEN_LANGUAGES } from '../../device/screen/screen-controller.js';
import { errorOf } from '../../device/screen/screen-state.js';

const load = (lang: string) => JSON.parse(readFileSync(new URL(`../../device/screen/i18n/${lang}.json`, import.meta.url), 'utf8')) as Record<string, string>;
const en = load('en');
const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('screen texts: one catalogue per language', () => {
  it.each(SCREEN_LANGUAGES.map((l) => [l]))('%s has every key of the English catalogue, no other, each non-empty with the same placeholders', (lang) => {
    const c = load(lang);
    expect(Object.keys(c).sort()).toEqual(Object.keys(en).sort());
    for (const [key, text] of Object.entries(c)) {
      expect(text.trim(), `${lang} ${key}`).not.toBe('');
      expect(placeholders(text), `${lang} ${key}`).toEqual(placeholders(en[key] ?? ''));
    }
  });

  it('every key the page builds exists: each error in words, each door action, each finished flow', () => {
    const reasons = ['UNKNOWN_CODE', 'KEYPAD_LOCKED', 'ALREADY_USED', 'WRONG_LOCKER', 'EXPIRED', 'NOT_YET_VALID', 'NO_FREE_COMPARTMENT', 'OUT_OF_SERVICE', 'BATCH_DONE', 'BAD_SIGNATURE'];
    const codes = new Set(reasons.map((r) => errorOf(r, { attemptsLeft: 1, unlockInSec: 0 }).code));
    expect(codes.size).toBe(10);
    const keys = [...[...codes].map((c) => `error.${c}`), ...['pickup', 'collect', 'deposit', 'reopen'].map((a) => `close.${a}`), ...['pickup', 'collect', 'deposit', 'reopen', 'batch'].map((a) => `done.${a}`)];
    const page = readFileSync(new URL('../../device/screen/public/screen.js', import.meta.url), 'utf8');
    for (const m of page.matchAll(/\bt\('([\w.]+)'/g)) keys.push(m[1] ?? '');
    for (const key of keys) expect(en[key], key).toBeDefined();
  });
});
