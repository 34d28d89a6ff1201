/** Principal id of the bootstrap admin token (no account row). */
export const BOOTSTRAP_ADMIN_ID = 'admin';
/** How a principal is recorded on what it creates (parcels.created_by, history source_ref): `role:id`. */
export function principalRef(p) {
    return `${p.role}:${p.id}`;
}
/**
 * The `created_by` a principal's parcel reads are restricted to: carriers see only the parcels they booked;
 * admins and operators see every parcel (undefined = no restriction).
 */
export function parcelOwnerScope(p) {
    return p.role === 'carrier' ? principalRef(p) : undefined;
}
//# sourceMappingURL=principal.js.map