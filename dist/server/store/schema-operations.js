export {};
//# sourceMappingURL=schema-operations.js.map