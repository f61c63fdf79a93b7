/** The HTTP API (Mesos-DNS `/v1` endpoints, `/health`, `/ready`, `/metrics`, `/config`). */
export { HttpApi, responseText } from './api.js';
export type {
  HealthDetails,
  HttpApiOptions,
  HttpRefusal,
  HttpResponse,
  MetricsScrape,
  SnapshotView,
  SourceHealth,
  WorkerHealth,
} from './api.js';
export { LazyArray, LazyObject, jsonChunks, jsonPieces } from './json-stream.js';
export {
  PROJECT_URL,
  axfrBody,
  axfrView,
  enumerateBody,
  enumerateView,
  hostsView,
  mesosDnsConfigView,
  pathName,
  servicesView,
  versionView,
} from './views.js';
export type {
  AxfrView,
  ConfigFacts,
  EnumerateView,
  HostView,
  MesosDnsConfigView,
  ServiceView,
  VersionView,
} from './views.js';
