export {};
//# sourceMappingURL=route-plugin.js.map