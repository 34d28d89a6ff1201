import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../shared/clock.js';
import { DeviceTime } from '../../device/device-time.js';
import { DeviceStore } from '../../device/store/device-store.js';

describe('device time', () => {
  it('follows the device clock corrected by the server’s time', () => {
    const clock = new ManualClock(1_000_000);
    const t = new DeviceTime(clock);
    t.learn(5_000_000);
    expect(t.now()).toBe(5_000_000);
    clock.advance(1000);
    expect(t.now()).toBe(5_001_000);
  });

  it('never runs backwards when the device clock jumps back', () => {
    const clock = new ManualClock(1_000_000);
    const t = new DeviceTime(clock);
    t.learn(1_000_000);
    clock.advance(60_000);
    expect(t.now()).toBe(1_060_000);
    clock.set(0);
    expect(t.now()).toBe(1_060_000);
    clock.set(1_070_000);
    expect(t.now()).toBe(1_070_000);
  });

  it('takes the server’s word over its own high-water mark', () => {
    const clock = new ManualClock(10_000_000);
    const t = new DeviceTime(clock);
    expect(t.now()).toBe(10_000_000);
    t.learn(2_000_000);
    expect(t.now()).toBe(2_000_000);
    expect(t.serverConfirmed).toBe(2_000_000);
  });

  it('keeps its floor across a reboot through the store, written with every event', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-time-'));
    try {
      const clock = new ManualClock(5_000_000);
      const file = path.join(dir, 'd.sqlite');
      let store = await DeviceStore.open(file, () => 'e');
      const t = new DeviceTime(clock);
      t.learn(5_000_000);
      clock.advance(10_000);
      await store.record([{ type: 'door.opened' }], { bootId: 'b', now: t.now(), time: t.serialize() });
      await store.close();

      clock.set(0); // the RTC lost its battery
      store = await DeviceStore.open(file, () => 'e');
      const after = new DeviceTime(clock, DeviceTime.parse(await store.getMeta('time')));
      expect(after.now()).toBe(5_010_000);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ignores a damaged time record', () => {
    expect(DeviceTime.parse('{not json')).toBeUndefined();
    expect(DeviceTime.parse(JSON.stringify({ offset: 'x' }))).toBeUndefined();
  });
});
