import { Type, type Static } from '@sinclair/typebox';
import { Role } from './accounts.js';

/** Operator sign-in (issue 19): the request and response shapes of /v1/session and the password and TOTP routes. */

/** POST /v1/session */
export const SignInBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    /** The 6-digit code of the account's authenticator app, when it has a second factor. */
    totp: Type.Optional(Type.String({ maxLength: 16 })),
  },
  { additionalProperties: false },
);
export type SignInBody = Static<typeof SignInBody>;

/** The signed-in session: who, until when, and the CSRF token every state-changing request must carry. */
export const SessionView = Type.Object({
  account: Type.Object({ id: Type.String(), name: Type.String(), role: Role }),
  /** Send it as `X-CSRF-Token` on every POST, PUT, PATCH and DELETE made with the session cookie. */
  csrfToken: Type.String(),
  createdAt: Type.Integer(),
  /** The absolute end of the session. */
  expiresAt: Type.Integer(),
  /** When it ends without further requests. */
  idleExpiresAt: Type.Integer(),
  /** Whether the account has a second factor. */
  totp: Type.Boolean(),
});
export type SessionView = Static<typeof SessionView>;

export const SessionsEndedView = Type.Object({ sessionsEnded: Type.Integer() });
export type SessionsEndedView = Static<typeof SessionsEndedView>;

export const SignedOutView = Type.Object({ signedOut: Type.Literal(true) });
export type SignedOutView = Static<typeof SignedOutView>;

/** POST /v1/accounts/:id/password (admin) */
export const SetPasswordBody = Type.Object({ password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false });
export type SetPasswordBody = Static<typeof SetPasswordBody>;

/** PUT /v1/me/password */
export const ChangePasswordBody = Type.Object(
  { currentPassword: Type.String({ minLength: 1, maxLength: 1024 }), newPassword: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);
export type ChangePasswordBody = Static<typeof ChangePasswordBody>;

/** POST /v1/accounts/:id/role (admin) */
export const SetRoleBody = Type.Object({ role: Role }, { additionalProperties: false });
export type SetRoleBody = Static<typeof SetRoleBody>;

/** POST /v1/me/totp: the new secret, shown once (base32, and as an otpauth:// URI for a QR code). */
export const TotpEnrolmentView = Type.Object({ secret: Type.String(), uri: Type.String() });
export type TotpEnrolmentView = Static<typeof TotpEnrolmentView>;

/** POST /v1/me/totp/confirm */
export const TotpCodeBody = Type.Object({ code: Type.String({ minLength: 1, maxLength: 16 }) }, { additionalProperties: false });
export type TotpCodeBody = Static<typeof TotpCodeBody>;

/** POST /v1/me/totp/remove: the password again. */
export const RemoveTotpBody = Type.Object({ password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false });
export type RemoveTotpBody = Static<typeof RemoveTotpBody>;

export const TotpStateView = Type.Object({ totp: Type.Boolean() });
export type TotpStateView = Static<typeof TotpStateView>;
