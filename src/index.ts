/** Tessera's public API: embed the server in a process (tests, tools). */
export { startServer, type StartOptions, type RunningServer } from './server.js';
export { resolveConfig, DEFAULTS, type Config } from './config.js';
