/** How the server talks MQTT, whatever the broker: embedded aedes, or an external broker through a client. */
export interface BrokerLink {
  publish(topic: string, payload: Buffer, options: { qos: 0 | 1; retain?: boolean }): Promise<void>;
  /** Delivers every message matching `filter`; the handler's promise settles before the message counts as handled. */
  subscribe(filter: string, handler: (topic: string, payload: Buffer) => Promise<void>): Promise<void>;
}

/** Credentials a locker uses on the broker instead of signed tokens (handed to the device once, at enrolment). */
export interface BrokerCredentials {
  username: string;
  password: string;
}

/** The broker as the server sees it: the link, plus connecting and the lockers' access. */
export interface ServerBroker {
  readonly link: BrokerLink;
  /** Listens (embedded) or connects (external); returns the URL lockers are given when none is configured. */
  start(): Promise<string>;
  /** True while lockers can reach the server through the broker (readiness). */
  ready(): boolean;
  /** Lockers connected now (embedded: exact; external: as the database last saw them). */
  connectedClients(): number;
  /**
   * A locker enrolled: gives it access. Returns credentials when this broker needs its own (Mosquitto dynamic
   * security), undefined when lockers sign in with tokens signed by their key (embedded, or a broker that asks us).
   */
  provisionLocker(lockerId: string): Promise<BrokerCredentials | undefined>;
  /** A locker's key was revoked: it loses access and its connection is closed. */
  revokeLocker(lockerId: string): Promise<void>;
  close(): Promise<void>;
}
