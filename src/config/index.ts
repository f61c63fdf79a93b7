// Public surface of the config module: load, validate and render the configuration.
export type {
  Config,
  ForwardCacheConfig,
  ForwardPolicy,
  HealthMode,
  HostPort,
  IpSource,
  MesosMode,
  SoaConfig,
  RrlConfig,
  TcpLimits,
  TsigAlgorithmName,
} from './types.js';
export type { CheckResult, ParsedConfig } from './load.js';
export type { YamlComments } from './render.js';
export { CONFIG_SCHEMA_URL } from './yaml-file.js';
export {
  checkConfig,
  configFormat,
  convertConfig,
  describeConfigError,
  loadConfig,
  loadConfigWithWarnings,
  parseConfig,
  parseConfigWithWarnings,
} from './load.js';
export { configToYaml } from './render.js';
export { REDACTED, redactConfig } from './redact.js';
export { secretProblem } from './sections/transfer.js';
export {
  PRECOMPILED_VALIDATOR,
  newAjv,
  precompiledValidator,
  precompiledValidatorSource,
} from './schema.js';
export type { Validator } from './schema.js';
export { DEFAULT_CONFIG, MESOS_DNS_DEFAULTS, defaultSoaNames } from './defaults.js';
export { formatDuration, parseDuration } from '../duration.js';
