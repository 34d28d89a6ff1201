/**
 * The tables, each row type declared once; insert and select shapes are derived from it (`Generated` columns
 * are optional on insert). Times are milliseconds since the epoch, from the injected clock. Booleans are 0/1.
 */
export * from './schema-operations.js';
//# sourceMappingURL=schema.js.map