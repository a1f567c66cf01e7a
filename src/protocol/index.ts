// ɳChat's wire contract, shared by the server, the load tests, the benchmarks and the web client:
// every object, REST body and reply, WebSocket op and event, close code and error code, as a
// TypeBox (JSON Schema) schema with its TypeScript type derived from it. Nothing here imports
// from server/ or needs Node.
export * from './fields.js';
export * from './objects.js';
export * from './files.js';
export * from './errors.js';
export * from './rest.js';
export * from './ws.js';
export * from './paging.js';
export * from './search.js';
