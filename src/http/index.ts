/** The HTTP API (Mesos-DNS `/v1` endpoints, `/health`, `/ready`, `/metrics`, `/config`). */
export { HttpApi } from './api.js';
export type {
  HealthDetails,
  HttpApiOptions,
  HttpResponse,
  MetricsScrape,
  SnapshotView,
  SourceHealth,
  WorkerHealth,
} from './api.js';
export {
  PROJECT_URL,
  axfrView,
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
