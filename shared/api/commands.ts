import { Type, type Static } from '@sinclair/typebox';
import { CompartmentId } from '../ids.js';
import { COMMAND_TYPES } from '../messages.js';

export const COMMAND_STATES = ['pending', 'succeeded', 'failed', 'expired'] as const;
export const CommandState = Type.Union(COMMAND_STATES.map((s) => Type.Literal(s)));
export type CommandState = (typeof COMMAND_STATES)[number];

const CommandType = Type.Union(COMMAND_TYPES.map((t) => Type.Literal(t)));

/** POST /v1/lockers/:id/commands */
export const CommandBody = Type.Object(
  {
    type: CommandType,
    compartmentId: CompartmentId,
    /** Required for set_service. */
    inService: Type.Optional(Type.Boolean()),
    /** Why: kept with the command and, for a remote open, in the audit log. One compartment per call: no bulk open. */
    reason: Type.String({ minLength: 3, maxLength: 200 }),
    ttlSec: Type.Optional(Type.Integer({ minimum: 10, maximum: 86_400 })),
  },
  { additionalProperties: false },
);
export type CommandBody = Static<typeof CommandBody>;

export const CommandView = Type.Object({
  id: Type.String(),
  lockerId: Type.String(),
  type: CommandType,
  compartmentId: Type.String(),
  inService: Type.Union([Type.Boolean(), Type.Null()]),
  reason: Type.String(),
  requestedBy: Type.String(),
  state: CommandState,
  result: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.Integer(),
  expiresAt: Type.Integer(),
  updatedAt: Type.Integer(),
});
export type CommandView = Static<typeof CommandView>;

export const CommandList = Type.Object({ commands: Type.Array(CommandView) });
export type CommandList = Static<typeof CommandList>;
