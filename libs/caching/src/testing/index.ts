export { startRedisServer } from './redis-server.js';
export type { TestRedisServer } from './redis-server.js';
