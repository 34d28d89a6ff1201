/**
 * The MQTT contract as an AsyncAPI 3 document, built from the protocol's own TypeBox schemas and topic list
 * (shared/messages.ts, shared/topics.ts): `npm run asyncapi` writes it to docs/asyncapi.yaml, and a test fails when
 * the committed file differs from a fresh build. docs/protocol.md is the prose; this is the machine-readable part.
 * It describes the locker agent's side: it sends on the device → server topics and receives on the others.
 */
import type { TSchema } from '@sinclair/typebox';
import { stringify } from 'yaml';
import {
  CommandMessage,
  EventAckMessage,
  EventBatchMessage,
  HeartbeatMessage,
  StateDeltaMessage,
  StateGetMessage,
  StateReportedMessage,
  StateSnapshotMessage,
  StatusMessage,
} from '../messages.js';
import { MAX_PAYLOAD_BYTES, MAX_STATE_PAYLOAD_BYTES, PROTOCOL_VERSION } from '../protocol-version.js';
import { DEVICE_PUBLISHES, DEVICE_SUBSCRIBES, TOPIC_ROOT, type TopicKind } from '../topics.js';

interface MessageSpec {
  /** Component name of the message and of its payload schema. */
  name: string;
  title: string;
  summary: string;
  schema: TSchema;
}

interface TopicSpec {
  /** Operation and channel id (camelCase of the topic kind). */
  id: string;
  summary: string;
  messages: MessageSpec[];
  retained: boolean;
  /** The QoS it is published with (1 unless said). */
  qos?: 0 | 1;
  maxBytes: number;
  /** Where docs/protocol.md describes it. */
  anchor: string;
}

/** Every topic kind of the protocol, with its payloads. A kind missing here fails the build (the Record type). */
const TOPICS: Record<TopicKind, TopicSpec> = {
  status: {
    id: 'status',
    summary: 'Presence: online after connecting; offline as the MQTT will (and on a clean stop). Retained.',
    messages: [{ name: 'status', title: 'Status', summary: 'The locker is online or offline.', schema: StatusMessage }],
    retained: true,
    maxBytes: MAX_PAYLOAD_BYTES,
    anchor: 'status',
  },
  heartbeat: {
    id: 'heartbeat',
    summary: 'Liveness, a summary of the queues, and telemetry (firmware, temperature, power).',
    messages: [{ name: 'heartbeat', title: 'Heartbeat', summary: 'The device is alive.', schema: HeartbeatMessage }],
    retained: false,
    maxBytes: MAX_PAYLOAD_BYTES,
    anchor: 'heartbeat',
  },
  events: {
    id: 'events',
    summary: 'A batch of events from the durable outbox; the server applies each (locker, seq) once and acknowledges after commit.',
    messages: [{ name: 'eventBatch', title: 'Event batch', summary: 'Events the locker recorded.', schema: EventBatchMessage }],
    retained: false,
    maxBytes: MAX_PAYLOAD_BYTES,
    anchor: 'event-batch',
  },
  'state/get': {
    id: 'stateGet',
    summary: 'The device asks for a full desired-state snapshot (after every connect, or a gap in versions).',
    messages: [{ name: 'stateGet', title: 'State request', summary: 'Send me a snapshot.', schema: StateGetMessage }],
    retained: false,
    maxBytes: MAX_PAYLOAD_BYTES,
    anchor: 'state-request',
  },
  'state/reported': {
    id: 'stateReported',
    summary: 'The desired-state version the device applied, and its last event seq at that moment.',
    messages: [{ name: 'stateReported', title: 'State reported', summary: 'Applied version.', schema: StateReportedMessage }],
    retained: false,
    maxBytes: MAX_PAYLOAD_BYTES,
    anchor: 'state-reported',
  },
  'events/ack': {
    id: 'eventsAck',
    summary: 'Sequence numbers the server has committed (sent only after the commit).',
    messages: [{ name: 'eventAck', title: 'Event ack', summary: 'Committed seqs.', schema: EventAckMessage }],
    retained: false,
    qos: 0,
    maxBytes: MAX_PAYLOAD_BYTES,
    anchor: 'event-ack',
  },
  state: {
    id: 'state',
    summary: 'Desired state: a full snapshot, or a delta from the previous version.',
    messages: [
      { name: 'stateSnapshot', title: 'State snapshot', summary: 'The whole desired state at one version.', schema: StateSnapshotMessage },
      { name: 'stateDelta', title: 'State delta', summary: 'Changes from one version to the next.', schema: StateDeltaMessage },
    ],
    retained: false,
    maxBytes: MAX_STATE_PAYLOAD_BYTES,
    anchor: 'state-snapshot',
  },
  commands: {
    id: 'commands',
    summary: "An operator's command (remote open, service state), run at most once and never after it expires.",
    messages: [{ name: 'command', title: 'Command', summary: 'Something to do now.', schema: CommandMessage }],
    retained: false,
    maxBytes: MAX_PAYLOAD_BYTES,
    anchor: 'command',
  },
};

/** A TypeBox schema as plain JSON Schema (TypeBox keeps its own markers under symbols, which JSON drops). */
const plain = (schema: TSchema): Record<string, unknown> => JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;

const MQTT_BINDING_VERSION = '0.2.0';

/** The AsyncAPI 3.0 document, as a plain object. */
export function asyncApiDocument(): Record<string, unknown> {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  const kinds: { kind: TopicKind; action: 'send' | 'receive' }[] = [
    ...DEVICE_PUBLISHES.map((kind) => ({ kind, action: 'send' as const })),
    ...DEVICE_SUBSCRIBES.map((kind) => ({ kind, action: 'receive' as const })),
  ];
  for (const { kind, action } of kinds) {
    const t = TOPICS[kind];
    const channelMessages: Record<string, unknown> = {};
    for (const m of t.messages) {
      const schemaName = `${m.name[0]!.toUpperCase()}${m.name.slice(1)}Message`;
      schemas[schemaName] = plain(m.schema);
      messages[m.name] = {
        name: m.name,
        title: m.title,
        summary: m.summary,
        contentType: 'application/json',
        payload: { $ref: `#/components/schemas/${schemaName}` },
      };
      channelMessages[m.name] = { $ref: `#/components/messages/${m.name}` };
    }
    channels[t.id] = {
      address: `${TOPIC_ROOT}/{lockerId}/${kind}`,
      title: `${TOPIC_ROOT}/{lockerId}/${kind}`,
      summary: t.summary,
      description: `${action === 'send' ? 'Device → server' : 'Server → device'}. QoS ${t.qos ?? 1}${t.retained ? ', retained' : ''}. At most ${t.maxBytes} bytes of payload. See docs/protocol.md#${t.anchor}.`,
      parameters: { lockerId: { $ref: '#/components/parameters/lockerId' } },
      messages: channelMessages,
    };
    operations[`${action}${t.id[0]!.toUpperCase()}${t.id.slice(1)}`] = {
      action,
      channel: { $ref: `#/channels/${t.id}` },
      summary: t.summary,
      messages: t.messages.map((m) => ({ $ref: `#/channels/${t.id}/messages/${m.name}` })),
      bindings: { mqtt: { qos: t.qos ?? 1, retain: t.retained, bindingVersion: MQTT_BINDING_VERSION } },
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Lockstep locker protocol (MQTT)',
      version: String(PROTOCOL_VERSION),
      description: [
        'The MQTT contract between a locker agent and the Lockstep server, from the locker\'s side: it sends on the',
        'device → server topics and receives on the server → device ones, each topic its own (`{lockerId}` is the',
        'locker\'s id; no wildcards). Every payload is JSON with `v` (the protocol version). Generated from the',
        'TypeBox schemas in shared/ by `npm run asyncapi`; the prose, with the rules behind each message, is',
        'docs/protocol.md.',
      ].join(' '),
      license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
    },
    defaultContentType: 'application/json',
    servers: {
      lockstep: {
        host: 'localhost:1883',
        protocol: 'mqtt',
        protocolVersion: '3.1.1',
        description: 'The embedded broker of `npm start` (MQTT_PORT), or the external broker of MQTT_URL. Use TLS (`mqtts`) wherever the deployment offers it.',
        security: [{ $ref: '#/components/securitySchemes/lockerToken' }],
        bindings: {
          mqtt: {
            cleanSession: true,
            keepAlive: 30,
            lastWill: { topic: `${TOPIC_ROOT}/{lockerId}/status`, qos: 1, retain: true, message: '{"v":1,"state":"offline","bootId":"…"}' },
            bindingVersion: MQTT_BINDING_VERSION,
          },
        },
      },
    },
    channels,
    operations,
    components: {
      parameters: { lockerId: { description: "The locker's own id (client id = username = locker id)." } },
      securitySchemes: {
        lockerToken: {
          type: 'userPassword',
          description:
            'Username = client id = the locker id. Password = a broker token the locker signs with its enrolled Ed25519 key for each connect (a compact JWS, typ lockstep-broker+jwt, used once), or, with an external Mosquitto, the broker account it got at enrolment. See docs/protocol.md#transport.',
        },
      },
      messages,
      schemas,
    },
  };
}

/** The document as committed in docs/asyncapi.yaml. */
export function asyncApiYaml(): string {
  return `# Generated by \`npm run asyncapi\` from shared/ (shared/asyncapi/asyncapi-document.ts). Do not edit by hand.\n${stringify(asyncApiDocument(), { lineWidth: 0, aliasDuplicateObjects: false })}`;
}
