import { Type } from '@sinclair/typebox';
import { CompartmentId } from '../ids.js';
import { COMMAND_TYPES } from '../messages.js';
export const COMMAND_STATES = ['pending', 'succeeded', 'failed', 'expired'];
export const CommandState = Type.Union(COMMAND_STATES.map((s) => Type.Literal(s)));
const CommandType = Type.Union(COMMAND_TYPES.map((t) => Type.Literal(t)));
/** POST /v1/lockers/:id/commands */
export const CommandBody = Type.Object({
    type: CommandType,
    compartmentId: CompartmentId,
    /** Required for set_service. */
    inService: Type.Optional(Type.Boolean()),
    /** Why: kept with the command and, for a remote open, in the audit log. One compartment per call: no bulk open. */
    reason: Type.String({ minLength: 3, maxLength: 200 }),
    ttlSec: Type.Optional(Type.Integer({ minimum: 10, maximum: 86_400 })),
}, { additionalProperties: false });
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
export const CommandList = Type.Object({ commands: Type.Array(CommandView) });
// Opens of occupied compartments (issue 17): beyond a small daily allowance they wait for a second operator.
/**
 * `sent_on_allowance`: sent at once, within the requester's daily allowance; `pending_approval`: waits for
 * another operator; `approved`: sent after approval; `expired`: nobody approved it in time.
 */
export const REMOTE_OPEN_REQUEST_STATES = ['sent_on_allowance', 'pending_approval', 'approved', 'expired'];
export const RemoteOpenRequestState = Type.Union(REMOTE_OPEN_REQUEST_STATES.map((s) => Type.Literal(s)));
const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableTime = Type.Union([Type.Integer(), Type.Null()]);
/** A request to open an occupied compartment (202 of POST /v1/lockers/:id/commands when it needs approval). */
export const RemoteOpenRequestView = Type.Object({
    requestId: Type.String(),
    state: RemoteOpenRequestState,
    /** `APPROVAL_REQUIRED` while it waits for a second operator. */
    code: NullableString,
    lockerId: Type.String(),
    compartmentId: Type.String(),
    parcelId: NullableString,
    reason: Type.String(),
    requestedBy: Type.String(),
    createdAt: Type.Integer(),
    /** The approval must come before this. */
    expiresAt: Type.Integer(),
    approvedBy: NullableString,
    approvedAt: NullableTime,
    /** The open command, once sent. */
    commandId: NullableString,
});
export const RemoteOpenRequestList = Type.Object({ requests: Type.Array(RemoteOpenRequestView) });
/** GET /v1/remote-open-requests */
export const RemoteOpenRequestQuery = Type.Object({ state: Type.Optional(RemoteOpenRequestState) }, { additionalProperties: false });
/** 202 of POST /v1/lockers/:id/commands: the command sent, or (an occupied compartment beyond the allowance) the request. */
export const CommandAccepted = Type.Union([CommandView, RemoteOpenRequestView]);
//# sourceMappingURL=commands.js.map