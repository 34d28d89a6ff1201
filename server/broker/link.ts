/** How the server talks MQTT, whatever the broker: embedded aedes today, an external broker later. */
export interface BrokerLink {
  publish(topic: string, payload: Buffer, options: { qos: 0 | 1; retain?: boolean }): Promise<void>;
  /** Delivers every message matching `filter`; the handler's promise settles before the message counts as handled. */
  subscribe(filter: string, handler: (topic: string, payload: Buffer) => Promise<void>): Promise<void>;
}
