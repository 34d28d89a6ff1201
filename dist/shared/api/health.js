import { Type } from '@sinclair/typebox';
/** GET /healthz: the process answers. */
export const HealthView = Type.Object({ status: Type.Literal('ok') });
export const CheckResult = Type.Union([Type.Literal('ok'), Type.Literal('failing')]);
/** GET /readyz (200 ready, 503 not ready): the database answers in time and takes writes, and the broker listens. */
export const ReadyView = Type.Object({
    status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
    checks: Type.Object({ database: CheckResult, broker: CheckResult }),
    /** Why the database check fails when it answers but refuses writes (disk full; read-only or failing storage). */
    reason: Type.Optional(Type.Union([Type.Literal('STORAGE_FULL'), Type.Literal('STORAGE_UNAVAILABLE')])),
});
//# sourceMappingURL=health.js.map