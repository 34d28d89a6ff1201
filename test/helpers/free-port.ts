// One helper for tests and benchmarks (the bench's throwaway redis-server uses it too).
export { freePort } from '../../bench/free-port.js';
