// Public surface of the fleet's API server.
export { startFleetServer, type RunningFleet } from './start.js';
export { createFleetServer, allRoutes } from './server.js';
