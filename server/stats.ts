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
  /** Booked parcels moved to another compartment because the locker put a parcel into theirs. */
  rebooked = 0;
  authFailures = 0;
  /** Broker sign-ins answered CONNACK 3 "server unavailable": too many waiting for their check (sign-in-gate.ts). */
  signInsBusy = 0;
  /** Broker sign-ins sent to the doubtful line (their token does not verify against the key last read, known-keys.ts). */
  signInsDoubtful = 0;
  /** Of the busy refusals, those of the doubtful line. */
  signInsDoubtfulBusy = 0;
  /** Broker sign-ins whose client was gone by their turn: not checked. */
  signInsGone = 0;
  /** Broker sign-in checks that ran out of time (a slow or hung database): answered CONNACK 3. */
  signInsTimedOut = 0;
  aclDenied = 0;
  /** MQTT connections closed by the transport limits (too many from one address, a packet limit, no sign-in in time), by reason. */
  readonly connectionsRefused = new Map<string, number>();
  /** Group-commit transactions that failed as a whole (their items ran again one by one), by writer. */
  readonly groupCommitFailures = new Map<string, number>();
  /** Work queued to run after a commit (a desired-state delta's publish) that failed; the next snapshot carries it. */
  afterCommitFailures = 0;

  connectionRefused(reason: string): void {
    this.connectionsRefused.set(reason, (this.connectionsRefused.get(reason) ?? 0) + 1);
  }

  reject(code: string): void {
    this.mqttRejected.set(code, (this.mqttRejected.get(code) ?? 0) + 1);
  }

  groupCommitFailed(writer: string): void {
    this.groupCommitFailures.set(writer, (this.groupCommitFailures.get(writer) ?? 0) + 1);
  }

  rejectedTotal(): number {
    let n = 0;
    for (const v of this.mqttRejected.values()) n += v;
    return n;
  }
}
