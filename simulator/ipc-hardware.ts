import type { ChildProcess } from 'node:child_process';
import type { CompartmentInfo, DoorState, LockerHardware } from '../device/hardware.js';
import type { SimulatedLocker } from './simulated-locker.js';

/** Messages between a device process and the simulator that holds its (simulated) hardware. */
export type ToHost =
  | { t: 'pulse'; id: string; rid: number }
  | { t: 'readDoor'; id: string; rid: number }
  | { t: 'display'; line: string }
  | { t: 'status'; ready: boolean; outbox: number; lastSeq: number; resent: number; resentBatches: number; connects: number };

export type ToDevice =
  | { t: 'reply'; rid: number; door?: DoorState }
  | { t: 'door'; id: string; state: DoorState }
  | { t: 'keypad'; code: string }
  | { t: 'scan'; data: string }
  | { t: 'stop' };

/**
 * LockerHardware inside a device process, backed by hardware that lives in the simulator's process (as a real
 * lock board outlives a controller crash): killing the device process leaves the doors as they are.
 */
export class IpcHardware implements LockerHardware {
  #rid = 0;
  #pending = new Map<number, (m: ToDevice) => void>();
  #door = new Set<(id: string, s: DoorState) => void>();
  #keypad = new Set<(c: string) => void>();
  #scan = new Set<(d: string) => void>();

  constructor(
    private readonly list: readonly CompartmentInfo[],
    private readonly send: (m: ToHost) => void,
  ) {}

  receive(m: ToDevice): void {
    if (m.t === 'reply') {
      this.#pending.get(m.rid)?.(m);
      this.#pending.delete(m.rid);
    } else if (m.t === 'door') for (const l of this.#door) l(m.id, m.state);
    else if (m.t === 'keypad') for (const l of this.#keypad) l(m.code);
    else if (m.t === 'scan') for (const l of this.#scan) l(m.data);
  }

  compartments(): readonly CompartmentInfo[] {
    return this.list;
  }

  async pulseLock(id: string): Promise<void> {
    await this.#call({ t: 'pulse', id, rid: 0 });
  }

  async readDoor(id: string): Promise<DoorState> {
    return (await this.#call({ t: 'readDoor', id, rid: 0 })).door ?? 'closed';
  }

  onDoor(l: (id: string, s: DoorState) => void): () => void {
    this.#door.add(l);
    return () => this.#door.delete(l);
  }

  onKeypad(l: (c: string) => void): () => void {
    this.#keypad.add(l);
    return () => this.#keypad.delete(l);
  }

  onScan(l: (d: string) => void): () => void {
    this.#scan.add(l);
    return () => this.#scan.delete(l);
  }

  display(line: string): void {
    this.send({ t: 'display', line });
  }

  #call(m: Extract<ToHost, { rid: number }>): Promise<Extract<ToDevice, { t: 'reply' }>> {
    const rid = ++this.#rid;
    return new Promise((resolve) => {
      this.#pending.set(rid, (r) => resolve(r as Extract<ToDevice, { t: 'reply' }>));
      this.send({ ...m, rid });
    });
  }
}

/** The simulator's side: serves a device process from the SimulatedLocker and forwards what people do. */
export function hostHardware(child: ChildProcess, sim: SimulatedLocker, onStatus: (s: Extract<ToHost, { t: 'status' }>) => void): () => void {
  const send = (m: ToDevice) => {
    if (child.connected) child.send(m);
  };
  const onMessage = (raw: unknown) => {
    const m = raw as ToHost;
    if (m.t === 'pulse') void sim.pulseLock(m.id).then(() => send({ t: 'reply', rid: m.rid }));
    else if (m.t === 'readDoor') void sim.readDoor(m.id).then((door) => send({ t: 'reply', rid: m.rid, door }));
    else if (m.t === 'display') sim.display(m.line);
    else if (m.t === 'status') onStatus(m);
  };
  child.on('message', onMessage);
  const stops = [
    sim.onDoor((id, state) => send({ t: 'door', id, state })),
    sim.onKeypad((code) => send({ t: 'keypad', code })),
    sim.onScan((data) => send({ t: 'scan', data })),
  ];
  return () => {
    child.off('message', onMessage);
    for (const s of stops) s();
  };
}
