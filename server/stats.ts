/** Counters the server keeps about what it received; read by tests and exported at /metrics (server/metrics). */
export class ServerStats {
  /** Refused MQTT payloads by reason code. */
  readonly mqttRejected = new Map<string, number>();
  eventsApplied = 0;
  eventsDuplicate = 0;
  /** Events that referred to something the server does not know (another locker's parcel, an unknown grant). */
  eventsAnomalous = 0;
  /** Grants reported used more than once. */
  grantReuse = 0;
  authFailures = 0;
  aclDenied = 0;

  reject(code: string): void {
    this.mqttRejected.set(code, (this.mqttRejected.get(code) ?? 0) + 1);
  }

  rejectedTotal(): number {
    let n = 0;
    for (const v of this.mqttRejected.values()) n += v;
    return n;
  }
}
