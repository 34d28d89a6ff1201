export function accountView(a) {
    return { id: a.id, name: a.name, role: a.role, createdAt: a.created_at, disabled: a.disabled !== 0 };
}
export function tokenView(t) {
    return { id: t.jti, createdAt: t.created_at, expiresAt: t.expires_at, revokedAt: t.revoked_at };
}
//# sourceMappingURL=account-views.js.map