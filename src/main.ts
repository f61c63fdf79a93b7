#!/usr/bin/env node
/**
 * The command line: parses argv, prints usage and the version, runs a command and turns its
 * failure into one line and an exit code. The only module that reads argv or exits. Each command
 * is loaded when it runs (src/cli/), so that `--help` or a usage error does not load the server.
 */
import { parseArgs } from 'node:util';
import { ConfigError, MesosDnsError } from './errors.js';
import { closest } from './did-you-mean.js';
import { CliFailure, errorText } from './cli/failure.js';
import { VERSION } from './cli/version.js';

/** The commands, their usage lines and the options each one takes (besides the global ones). */
const COMMANDS = {
  serve: {
    usage: 'mesodns [serve] --config FILE',
    about: 'run the server (FILE: YAML, or a Mesos-DNS config.json)',
    options: ['config'],
  },
  'check-config': {
    usage: 'mesodns check-config FILE',
    about: 'validate FILE, print every problem, exit 1 on error',
    options: ['config'],
  },
  'convert-config': {
    usage: 'mesodns convert-config FILE.json',
    about: 'print the YAML equivalent of a Mesos-DNS config.json',
    options: ['config'],
  },
  records: {
    usage: 'mesodns records --state STATE.json [--config FILE]',
    about: 'print the records a state document produces (the same as serve for FILE)',
    options: ['state', 'config'],
  },
} as const;
type Command = keyof typeof COMMANDS;

const GLOBAL_OPTIONS = `options of every command:
  --help, -h      this help
  --version, -v   the version
  --debug         stack traces for errors`;

const USAGE = `mesodns ${VERSION}: service-discovery DNS for Apache Mesos

usage:
${Object.values(COMMANDS)
  .map((c) => `  ${c.usage}\n      ${c.about}`)
  .join('\n')}
  mesodns --version | --help

${GLOBAL_OPTIONS}`;

function commandUsage(command: Command): string {
  const c = COMMANDS[command];
  return `usage: ${c.usage}\n  ${c.about}\n\n${GLOBAL_OPTIONS}`;
}

function isCommand(name: string): name is Command {
  return Object.hasOwn(COMMANDS, name);
}

/** A mistake on the command line: one line, then the usage; exit 2. */
class UsageError extends Error {
  readonly command: Command | undefined;

  constructor(message: string, command: Command | undefined) {
    super(message);
    this.command = command;
  }
}

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  state: { type: 'string' },
  version: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
  debug: { type: 'boolean' },
} as const;

/** One line for an error of `parseArgs` (Node's messages name the option but read like a stack). */
function argvProblem(err: unknown): string {
  const code = err instanceof Error && 'code' in err ? err.code : undefined;
  const message = errorText(err);
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const option = /'([^']+)'/.exec(message)?.[1] ?? '?';
    const near = closest(option.replace(/^-+/, ''), Object.keys(OPTIONS));
    return `unknown option '${option}'${near === undefined ? '' : ` (did you mean '--${near}'?)`}`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const option = /--([a-z-]+)/.exec(message)?.[0] ?? 'an option';
    return /argument missing/.test(message)
      ? `option '${option}' needs a value`
      : `option '${option}' takes no value`;
  }
  return message.split('\n')[0] ?? message;
}

/** The file a command reads: its one positional argument or --config/--state, not both. */
function fileArgument(
  command: Command,
  positional: string | undefined,
  option: string | undefined,
  name: 'config' | 'state',
): string {
  if (positional !== undefined && option !== undefined) {
    throw new UsageError(`give the file once: ${positional} or --${name} ${option}`, command);
  }
  const file = positional ?? option;
  if (file === undefined) {
    const what = name === 'state' ? 'a state file (--state STATE.json)' : 'a config file';
    throw new UsageError(`${command} needs ${what}`, command);
  }
  return file;
}

async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: OPTIONS });
  } catch (err) {
    throw new UsageError(argvProblem(err), argv.find(isCommand));
  }
  const { values, positionals } = parsed;
  const [first, ...rest] = positionals;
  if (first !== undefined && !isCommand(first)) {
    const near = closest(first, Object.keys(COMMANDS));
    const hint = near === undefined ? '' : ` (did you mean '${near}'?)`;
    throw new UsageError(`unknown command '${first}'${hint}`, undefined);
  }
  const command: Command = first ?? 'serve';
  if (values.version === true) {
    process.stdout.write(`mesodns ${VERSION}\n`);
    return 0;
  }
  if (values.help === true) {
    process.stdout.write((first === undefined ? USAGE : commandUsage(command)) + '\n');
    return 0;
  }
  const accepted: readonly string[] = COMMANDS[command].options;
  for (const name of ['config', 'state'] as const) {
    if (values[name] === undefined || accepted.includes(name)) continue;
    const takers = Object.entries(COMMANDS)
      .filter(([, c]) => (c.options as readonly string[]).includes(name))
      .map(([n]) => n);
    throw new UsageError(`${command} does not take --${name} (${takers.join(', ')} does)`, command);
  }
  const [arg, extra] = rest;
  if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`, command);
  switch (command) {
    case 'serve': {
      const { serve } = await import('./serve/serve.js');
      return serve(fileArgument(command, arg, values.config, 'config'));
    }
    case 'check-config': {
      const file = fileArgument(command, arg, values.config, 'config');
      const { checkConfig } = await import('./config/index.js');
      const result = checkConfig(file);
      for (const m of result.messages) process.stderr.write(m + '\n');
      if (result.ok) process.stdout.write(`${file}: OK\n`);
      return result.ok ? 0 : 1;
    }
    case 'convert-config': {
      const file = fileArgument(command, arg, values.config, 'config');
      const { convertConfig } = await import('./config/index.js');
      process.stdout.write(convertConfig(file));
      return 0;
    }
    case 'records': {
      const file = fileArgument(command, arg, values.state, 'state');
      const { printRecords } = await import('./cli/records.js');
      return printRecords(file, values.config);
    }
  }
}

/** The stack of `err` and of its causes, for --debug. */
function stackText(err: unknown): string {
  const out: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 5; depth++) {
    out.push(e instanceof Error ? (e.stack ?? e.message) : JSON.stringify(e));
    e = e instanceof Error ? e.cause : undefined;
    if (e !== undefined) out.push('caused by:');
  }
  return out.join('\n') + '\n';
}

/** What stderr says about a failure, and the exit code: 2 for usage errors, 1 otherwise. */
async function failure(err: unknown, isDebug: boolean): Promise<{ text: string; code: number }> {
  const stack = isDebug ? stackText(err) : '';
  if (err instanceof UsageError) {
    const usage = err.command === undefined ? USAGE : commandUsage(err.command);
    return { text: `mesodns: ${err.message}\n\n${usage}\n`, code: 2 };
  }
  if (err instanceof ConfigError) {
    const { describeConfigError } = await import('./config/index.js');
    return { text: describeConfigError(err).join('\n') + '\n' + stack, code: 1 };
  }
  if (err instanceof CliFailure) return { text: `${err.message}\n${stack}`, code: 1 };
  if (err instanceof MesosDnsError) return { text: `mesodns: ${err.message}\n${stack}`, code: 1 };
  const hint = isDebug ? '' : ' (unexpected; run with --debug for the stack trace)';
  return { text: `mesodns: ${errorText(err)}${hint}\n${stack}`, code: 1 };
}

/**
 * Exits with `code` once what was written to stdout and stderr is out: into a pipe, writes are
 * asynchronous, and `process.exit` at once cut `records` output of a large zone short.
 */
function exitWhenFlushed(code: number): void {
  let pending = 2;
  const done = (): void => {
    pending--;
    if (pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

const args = process.argv.slice(2);
main(args).then(
  (code) => {
    exitWhenFlushed(code);
  },
  async (err: unknown) => {
    const { text, code } = await failure(err, args.includes('--debug'));
    process.stderr.write(text);
    exitWhenFlushed(code);
  },
);
