// The benchmarks start their Redis the same way (bench/ may not import test/, so the starter lives there).
export { startRedis, type TestRedis } from '../../bench/redis-server.js';
