import { Type } from '@sinclair/typebox';
import { ERRORS } from '../errors.js';
/** The error response every route may return. */
export const ErrorResponse = Type.Object({
    error: Type.Object({
        code: Type.Union(Object.keys(ERRORS).map((c) => Type.Literal(c))),
        message: Type.String(),
        details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    }),
});
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
/** Errors common to authenticated routes. */
export const authErrors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 429: ErrorResponse };
//# sourceMappingURL=schemas.js.map