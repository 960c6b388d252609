export * from './fake-github.js';
export { loadOpenApiDocument, loadRouteIndex, matchRoute, validateSchema, type Schema } from './openapi.js';
export type { AccountRecord, InstallationRecord, RepoRecord } from './objects.js';
