export {};
//# sourceMappingURL=hardware.js.map