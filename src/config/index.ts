// Public surface of the config module: load, validate and render the configuration.
export type {
  Config,
  ForwardCacheConfig,
  ForwardPolicy,
  HostPort,
  IpSource,
  MesosMode,
  SoaConfig,
  RrlConfig,
  TcpLimits,
} from './types.js';
export type { CheckResult, ParsedConfig, YamlComments } from './load.js';
export { CONFIG_SCHEMA_URL } from './yaml-file.js';
export {
  REDACTED,
  checkConfig,
  configFormat,
  configToYaml,
  convertConfig,
  describeConfigError,
  loadConfig,
  loadConfigWithWarnings,
  parseConfig,
  parseConfigWithWarnings,
  redactConfig,
} from './load.js';
export {
  PRECOMPILED_VALIDATOR,
  newAjv,
  precompiledValidator,
  precompiledValidatorSource,
} from './schema.js';
export type { Validator } from './schema.js';
export { DEFAULT_CONFIG, MESOS_DNS_DEFAULTS, defaultSoaNames } from './defaults.js';
export { formatDuration, parseDuration } from '../duration.js';
