/** Built-in drivers by name (none yet: the lock-board drivers will register here). */
const BUILT_IN = {};
/** The names `LOCKSTEP_HARDWARE` accepts. */
export function builtInHardwareNames() {
    return Object.keys(BUILT_IN);
}
/** The factory of a built-in driver, or undefined for an unknown name. */
export function builtInHardware(name) {
    return Object.hasOwn(BUILT_IN, name) ? BUILT_IN[name] : undefined;
}
//# sourceMappingURL=hardware-drivers.js.map