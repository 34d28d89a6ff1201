export {};
//# sourceMappingURL=link.js.map