/** The HTTP API (Mesos-DNS `/v1` endpoints, `/health`, `/ready`). */
export { HttpApi } from './api.js';
export type { HttpApiOptions, SnapshotView } from './api.js';
