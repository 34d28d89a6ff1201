import { describe, expect, it } from 'vitest';
import { screenSettings } from '../../device/screen/screen-settings.js';

describe('screen settings from the environment', () => {
  it('no port, no screen; defaults otherwise', () => {
    expect(screenSettings({})).toEqual({ port: null, language: 'en', idleTimeoutSec: 60, lowCompartments: [], reopenWindowSec: 60 });
  });

  it('the flag wins over SCREEN_PORT; every setting is read', () => {
    const s = screenSettings({ SCREEN_PORT: '9000', SCREEN_LANGUAGE: 'zh', SCREEN_IDLE_SECONDS: '30', SCREEN_LOW_COMPARTMENTS: 'A4, B2', REOPEN_WINDOW_SECONDS: '0' }, '8090');
    expect(s).toEqual({ port: 8090, language: 'zh', idleTimeoutSec: 30, lowCompartments: ['A4', 'B2'], reopenWindowSec: 0 });
  });

  it.each([
    [{ SCREEN_PORT: 'eighty' }],
    [{ SCREEN_PORT: '70000' }],
    [{ SCREEN_LANGUAGE: 'fr' }],
    [{ SCREEN_IDLE_SECONDS: '1' }],
    [{ REOPEN_WINDOW_SECONDS: '-5' }],
  ])('refuses %j with DEVICE_CONFIG_INVALID', (env) => {
    expect(() => screenSettings(env)).toThrow(expect.objectContaining({ code: 'DEVICE_CONFIG_INVALID' }));
  });
});
