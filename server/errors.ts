/**
 * Every error the server returns, in one catalogue: a stable machine code, an HTTP status and a message for
 * people. Clients and tests match on `code`, never on the message.
 */
export const ERRORS = {
  UNAUTHENTICATED: { status: 401, message: 'A valid bearer token is required.' },
  FORBIDDEN: { status: 403, message: 'Your role may not do this.' },
  VALIDATION_FAILED: { status: 400, message: 'The request does not match the schema.' },
  MALFORMED_JSON: { status: 400, message: 'The request body is not valid JSON.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Send the body as application/json.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  BAD_URL: { status: 400, message: 'The URL is not valid (bad percent-encoding).' },
  URL_TOO_LONG: { status: 414, message: 'A part of the URL is too long.' },
  ROUTE_NOT_FOUND: { status: 404, message: 'No such route.' },
  LOCKER_NOT_FOUND: { status: 404, message: 'No locker with this id.' },
  PARCEL_NOT_FOUND: { status: 404, message: 'No parcel with this id.' },
  DUPLICATE_COMPARTMENT: { status: 400, message: 'Compartment ids must be unique within a locker.' },
  SIZE_NOT_OFFERED: { status: 409, message: 'This locker has no compartment of this size or larger.' },
  PARCEL_NOT_CANCELLABLE: { status: 409, message: 'Only a parcel that is booked and not yet deposited can be cancelled.' },
  COMPARTMENT_NOT_FOUND: { status: 404, message: 'This locker has no compartment with this id.' },
  COMMAND_NOT_FOUND: { status: 404, message: 'No command with this id.' },
  ENROLMENT_REFUSED: { status: 403, message: 'This enrolment token is unknown, used, expired or for another locker.' },
  BROKER_UNAVAILABLE: { status: 503, message: 'The MQTT broker did not take the locker\'s account; the enrolment token is still valid, try again.' },
  BROKER_HOOK_REFUSED: { status: 403, message: 'This broker hook needs the broker\'s token (BROKER_HOOK_TOKEN).' },
  NO_FREE_COMPARTMENT: { status: 409, message: 'No compartment of a fitting size is free at this locker.' },
  ACCOUNT_NOT_FOUND: { status: 404, message: 'No account with this id.' },
  TOKEN_NOT_FOUND: { status: 404, message: 'This account has no token with this id.' },
  ACCOUNT_DISABLED: { status: 409, message: 'The account is disabled; it gets no new tokens.' },
  ADMIN_TOKEN_FROM_ENVIRONMENT: {
    status: 409,
    message: 'The bootstrap admin token comes from the ADMIN_TOKEN environment variable; change it there and restart.',
  },
  RATE_LIMITED: { status: 429, message: 'Too many requests; retry after the time in the retry-after header.' },
  REMOTE_OPEN_LIMITED: {
    status: 429,
    message: 'Too many remote opens in the last minute (by you, or across the fleet); retry after the time in the retry-after header.',
  },
  KEY_NOT_FOUND: { status: 404, message: 'No signing key with this kid.' },
  KEY_ROTATION_IN_PROGRESS: { status: 409, message: 'A next signing key is already on its way to the lockers; activate or retire it first.' },
  KEY_NOT_NEXT: { status: 409, message: 'Only the next signing key (delivered, not yet signing) can be activated.' },
  KEY_ACTIVE: { status: 409, message: 'The active signing key cannot be retired; rotate and activate another key first.' },
  TOO_MANY_KEYS: { status: 409, message: 'Lockers hold at most 16 signing keys; retire an old one first.' },
  CODE_SPACE_EXHAUSTED: { status: 503, message: 'Could not find a PIN unique among the live codes of this locker.' },
  ALARM_NOT_FOUND: { status: 404, message: 'No alarm with this id.' },
  ALARM_STATE_CONFLICT: {
    status: 409,
    message: 'The alarm is not in a state that allows this (acknowledge an open alarm; resolve an open or acknowledged one).',
  },
  INTERNAL: { status: 500, message: 'Internal error.' },
  WEBHOOK_URL_INVALID: { status: 400, message: 'The webhook URL must be an absolute http or https URL without credentials.' },
  WEBHOOK_NOT_FOUND: { status: 404, message: 'This account has no webhook.' },
  WEBHOOK_NOT_CONFIGURED: { status: 409, message: 'The account has no webhook to deliver to; set one first.' },
  ACCOUNT_NOT_CARRIER: { status: 409, message: 'Webhooks belong to carrier accounts.' },
  DELIVERY_NOT_FOUND: { status: 404, message: 'No webhook delivery with this id.' },
  DELIVERY_NOT_DEAD: { status: 409, message: 'Only a dead-lettered delivery can be retried by hand.' },
  PARCEL_NOT_AT_LOCKER: { status: 409, message: 'A parcel of the deposit session is booked into another locker.' },
  PARCEL_NOT_AWAITING_DEPOSIT: { status: 409, message: 'A parcel of the deposit session is not booked and waiting for its deposit (or its drop-off code is spent).' },
  MIXED_CARRIERS: { status: 409, message: 'The parcels of one deposit session must all be booked by the same carrier.' },
  PARCEL_NOT_IN_LOCKER: { status: 409, message: 'Only a parcel that is in the locker, waiting for its pickup, can have its window extended.' },
  EXTENSION_LIMIT_REACHED: { status: 409, message: 'This parcel has had every extension allowed.' },
  SENDER_REQUIRED: { status: 400, message: 'A return or peer-to-peer booking needs the sender (phone or email).' },
  // Webhook SSRF (issue 17):
  WEBHOOK_URL_REFUSED: {
    status: 422,
    message: 'The webhook URL points at a loopback, private, link-local, multicast or metadata address; such receivers need WEBHOOK_ALLOW_PRIVATE.',
  },
  // Disk full and write failures (issue 17): server/store/storage-errors.ts says which database errors these are.
  STORAGE_FULL: { status: 503, message: 'The server\'s storage is full; nothing was changed. Retry after the time in the retry-after header.' },
  STORAGE_UNAVAILABLE: {
    status: 503,
    message: 'The server\'s storage cannot take writes now (read-only, failing or unreachable); nothing was changed. Retry after the time in the retry-after header.',
  },
  // Remote opens and set_service (issue 17).
  REMOTE_OPEN_LOCKERS_LIMITED: { status: 429, message: 'You opened compartments in too many different lockers in the last hour; retry after the time in the retry-after header.' },
  REMOTE_OPEN_QUEUE_FULL: { status: 429, message: 'Too many of your remote opens are waiting for offline lockers; retry once some have run or expired.' },
  REMOTE_OPEN_PENDING_FULL: { status: 429, message: 'Too many of your requests to open occupied compartments are waiting for approval; retry once some are approved or expire.' },
  REMOTE_OPEN_OCCUPIED_LIMITED: { status: 429, message: 'The fleet had as many opens of occupied compartments in the last hour as it allows; retry later.' },
  REMOTE_OPEN_REQUEST_NOT_FOUND: { status: 404, message: 'No remote-open request with this id.' },
  REMOTE_OPEN_SELF_APPROVAL: { status: 403, message: 'A remote-open request needs another operator\'s approval; its requester cannot approve it.' },
  REMOTE_OPEN_REQUEST_NOT_PENDING: { status: 409, message: 'The remote-open request is no longer waiting for approval (approved or expired).' },
  SET_SERVICE_LIMITED: {
    status: 429,
    message: 'Too many set_service commands in the last minute (by you, or across the fleet); retry after the time in the retry-after header.',
  },
  // Integrators (issue 16, api): idempotency keys, retired lockers, cursor pages.
  IDEMPOTENCY_KEY_INVALID: { status: 400, message: 'The Idempotency-Key header must be 1 to 255 printable ASCII characters (a UUID is a good choice).' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, message: 'This Idempotency-Key was used with another request (method, path or body); use a new key for a new request.' },
  IDEMPOTENCY_KEY_IN_FLIGHT: { status: 409, message: 'A request with this Idempotency-Key is still being processed; retry once it has ended.' },
  IDEMPOTENCY_NOT_SUPPORTED: {
    status: 400,
    message: 'This route does not take an Idempotency-Key: its answer holds a credential that the server does not store.',
  },
  LOCKER_NOT_EMPTY: { status: 409, message: 'The locker still holds or expects parcels; they must be picked up, returned or cancelled before it is retired.' },
  LOCKER_RETIRED: { status: 409, message: 'The locker is retired.' },
  // Operator sign-in (issue 19): sessions, CSRF, lockout, passwords, TOTP.
  SIGN_IN_FAILED: { status: 401, message: 'The name, password or code is not right.' },
  SIGN_IN_LOCKED: { status: 423, message: 'Too many failed sign-ins for this name; retry after the time in the retry-after header.' },
  SIGN_IN_THROTTLED: { status: 429, message: 'Too many failed sign-ins from your address; retry after the time in the retry-after header.' },
  TOTP_REQUIRED: { status: 401, message: 'This account needs the code from its authenticator app.' },
  CSRF_TOKEN_INVALID: { status: 403, message: 'A request signed in by cookie must carry its session\'s CSRF token in the X-CSRF-Token header.' },
  SESSION_REQUIRED: { status: 409, message: 'This needs a signed-in session (a bearer token has none).' },
  PASSWORD_TOO_WEAK: { status: 422, message: 'The password does not meet the policy (at least 12 characters, at most 256, not containing the account name).' },
  PASSWORD_NOT_ALLOWED: { status: 409, message: 'Only operator and admin accounts sign in with a password; carrier accounts use tokens.' },
  PASSWORD_WRONG: { status: 403, message: 'The current password is not right.' },
  TOTP_ALREADY_ENABLED: { status: 409, message: 'The second factor is already enabled; disable it first.' },
  TOTP_NOT_PENDING: { status: 409, message: 'Start the enrolment of a second factor first.' },
  TOTP_CODE_INVALID: { status: 422, message: 'The code is not right (or was already used).' },
  ACCOUNT_NAME_TAKEN: { status: 409, message: 'Another account of this name (ignoring case) already signs in with a password; names that sign in must be unique.' },
  // Firmware, rollouts and remote diagnostics (issue 19):
  FIRMWARE_NOT_FOUND: { status: 404, message: 'No firmware with this version.' },
  FIRMWARE_EXISTS: { status: 409, message: 'Firmware with this version is already stored; a version is never replaced.' },
  FIRMWARE_SIGNATURE_INVALID: { status: 400, message: 'The signature does not verify with the firmware key (FIRMWARE_PUBLIC_KEY): no locker would install it.' },
  FIRMWARE_TOO_LARGE: { status: 413, message: 'The artefact is larger than FIRMWARE_MAX_BYTES.' },
  FIRMWARE_ARTEFACT_INVALID: { status: 400, message: 'The artefact is not valid base64 or is empty.' },
  ROLLOUT_NOT_FOUND: { status: 404, message: 'No rollout with this id.' },
  ROLLOUT_WAVES_INVALID: { status: 400, message: 'Waves must be increasing percentages ending at 100, or groups of known lockers, each locker in one group.' },
  ROLLOUT_NO_TARGETS: { status: 409, message: 'No locker needs this version.' },
  ROLLOUT_IN_PROGRESS: { status: 409, message: 'Another rollout is running, paused or halted; finish, abort or roll it back first.' },
  ROLLOUT_STATE_CONFLICT: { status: 409, message: 'The rollout is not in a state that allows this.' },
  DEVICE_LINK_INVALID: { status: 403, message: 'This device link is unknown, expired or not for this locker.' },
  DIAGNOSTICS_NOT_FOUND: { status: 404, message: 'No diagnostics request with this id for this locker.' },
  TIMEZONE_INVALID: { status: 400, message: 'Not an IANA time zone (e.g. Europe/Warsaw, UTC).' },
  // Scale (issue 18): bulk registration (server/lockers/import-lockers.ts).
  IMPORT_INVALID: { status: 400, message: 'Some rows of the import are invalid (each listed with its row number and code); nothing was imported.' },
  IMPORT_EMPTY: { status: 400, message: 'The import has no lockers.' },
  // Listings (cockpit, issues 16 and 19): shared/api/listing.ts.
  LIMIT_TOO_LARGE: { status: 400, message: 'The limit is above what this listing returns in one page; ask for fewer and follow nextCursor.' },
  HISTORY_RANGE_INVALID: { status: 400, message: 'The history range must start before it ends and span at most 744 hours (31 days).' },
  CURSOR_INVALID: { status: 400, message: 'The cursor is not one this listing gave, or was made for another sort or filter; start again without it.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** An error the domain raises with a catalogue code; the HTTP shell maps it to a response. */
export class LockstepError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, details?: Record<string, unknown>, message?: string) {
    super(message ?? ERRORS[code].message);
    this.name = 'LockstepError';
    this.code = code;
    this.details = details;
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

export function errorBody(code: ErrorCode, details?: Record<string, unknown>, message?: string): ErrorBody {
  return { error: { code, message: message ?? ERRORS[code].message, ...(details ? { details } : {}) } };
}
