/**
 * The `/master/state` document read as its bytes arrive (issue #20): `JsonSlicer` cuts it into
 * agents, frameworks' own fields and tasks, each parsed alone and validated with the rules of
 * `parseState` (parse.ts), then compacted (compact.ts). The document never exists whole, as
 * text or as objects: a load holds its `State` and about one task's text.
 *
 * The result is `parseState`'s for the same document, with the same report (counters and
 * problems, in the same order), except that tasks keep only their latest `TASK_RUNNING` status
 * and share their repeated strings. Members read: `leader`, `pid` and `leader_info` (the head,
 * for leader detection), `slaves`, `recovered_slaves` and `frameworks` (`id`, `name`, `hostname`,
 * `pid`, `tasks`); everything else is parsed one element at a time and dropped. As with
 * `JSON.parse`, a member given twice counts once, the last.
 *
 * Errors: a syntax error is a `StateSyntaxError` (line and column, 1-based); a document that is
 * not an object a `StateParseError`, as `parseState` says it.
 */
import { StateParseError } from '../errors.js';
import { COLLECT, SKIP, SKIP_ALL } from '../json-slices.js';
import type { SliceVisitor, ValueKind } from '../json-slices.js';
import { StateSlicer } from './document.js';
import { TaskCompactor } from './compact.js';
import type { EntryKind, JsonObject } from './narrow.js';
import { Report, describe } from './narrow.js';
import {
  parseAgent,
  parseFrameworkHead,
  parseLeader,
  parseRecoveredAgent,
  parseTask,
} from './parse.js';
import type { Agent, Framework, ParsedState, Task } from './types.js';

/** What a state document says of its masters, for leader detection (`leaderFacts`). */
export interface StateHead {
  readonly leader?: unknown;
  readonly pid?: unknown;
  readonly leader_info?: unknown;
}

/** A read state document: the validated state and the document's head. */
export interface ReadState {
  readonly parsed: ParsedState;
  readonly head: StateHead;
  /**
   * Whether the document has a `slaves` or a `frameworks` list: what makes it a `/master/state`
   * (`parseStateDocument` reads anything else as a v1 `GET_STATE` answer, or refuses it).
   */
  readonly hasLists: boolean;
}

type Action = SliceVisitor | typeof COLLECT | typeof SKIP;

/** Entries of one top-level list, each parsed as it comes, with their own report. */
class ListSection<T> implements SliceVisitor {
  readonly items: T[] = [];
  readonly report = new Report();
  readonly #key: string;
  readonly #kind: EntryKind;
  readonly #parse: (v: unknown, path: string) => T;

  constructor(key: string, kind: EntryKind, parse: (v: unknown, path: string) => T) {
    this.#key = key;
    this.#kind = kind;
    this.#parse = parse;
  }

  enter(): Action {
    return COLLECT;
  }

  value(key: string | number, value: unknown): void {
    const item = this.report.entry(value, `${this.#key}[${String(key)}]`, this.#kind, this.#parse);
    if (item !== undefined) this.items.push(item);
  }

  /** The list was not an array: reported as `parseState` does, read as empty. */
  notAList(value: unknown): void {
    this.report.listEntries({ [this.#key]: value }, undefined, this.#key, this.#kind, () => {
      throw new Error('unreachable: not a list');
    });
  }
}

/** A framework read: its own members, its tasks and their report. */
type FrameworkDone = (own: JsonObject, tasks: Task[], taskReport: Report) => void;

/** One framework, its own fields collected and its tasks parsed as they come. */
class FrameworkReader implements SliceVisitor {
  /** Its own members as sent (`tasks` as `[]` when it is a list, read apart). */
  readonly #own: Record<string, unknown> = {};
  #tasks: Task[] = [];
  /** Tasks that came before the framework's `id` (their default `framework_id`). */
  #pending: { readonly value: unknown; readonly index: number }[] = [];
  #taskReport = new Report();
  readonly #where: string;
  readonly #compactor: TaskCompactor;
  readonly #done: FrameworkDone;

  constructor(where: string, compactor: TaskCompactor, done: FrameworkDone) {
    this.#where = where;
    this.#compactor = compactor;
    this.#done = done;
  }

  enter(key: string | number, kind: ValueKind): Action {
    switch (key) {
      case 'id':
      case 'name':
      case 'hostname':
      case 'pid':
        return COLLECT;
      case 'tasks':
        if (kind !== 'array') return COLLECT;
        this.#own['tasks'] = [];
        this.#tasks = [];
        this.#pending = [];
        this.#taskReport = new Report();
        return this.#taskList;
      default:
        return kind === 'array' ? SKIP_ALL : SKIP;
    }
  }

  value(key: string | number, value: unknown): void {
    this.#own[key] = value;
  }

  readonly #taskList: SliceVisitor = {
    enter: () => COLLECT,
    value: (key, value) => {
      if (typeof key !== 'number') return;
      const id = this.#own['id'];
      if (typeof id === 'string') this.#task(value, key, id);
      else this.#pending.push({ value, index: key });
    },
  };

  #task(value: unknown, index: number, frameworkId: string): void {
    const path = `${this.#where}.tasks[${String(index)}]`;
    const task = this.#taskReport.entry(value, path, 'tasks', (t) => parseTask(t, frameworkId));
    if (task !== undefined) this.#tasks.push(this.#compactor.task(task));
  }

  close(): void {
    const id = this.#own['id'];
    if (typeof id === 'string') {
      for (const { value, index } of this.#pending) this.#task(value, index, id);
    }
    this.#pending = [];
    this.#done(this.#own, this.#tasks, this.#taskReport);
  }
}

/** Reads `/master/state` from its bytes; `push` each chunk, then `end`. */
export class StateReader {
  readonly #slicer: StateSlicer;
  readonly #compactor = new TaskCompactor();
  #head: Record<string, unknown> = {};
  #leaderReport = new Report();
  #agents = this.#agentSection();
  #recovered = new ListSection('recovered_slaves', 'agents', parseRecoveredAgent);
  #frameworks: Framework[] = [];
  #frameworkReport = new Report();
  #isObject = false;
  #notObject: unknown;
  #hasLists = false;

  constructor() {
    const top: SliceVisitor = {
      enter: (key, kind) => this.#member(key, kind),
      value: (key, value) => {
        this.#value(key, value);
      },
    };
    this.#slicer = new StateSlicer({
      enter: (_key, kind) => {
        this.#isObject = kind === 'object';
        return kind === 'object' ? top : kind === 'array' ? SKIP_ALL : COLLECT;
      },
      value: (_key, value) => {
        this.#notObject = value;
      },
    });
  }

  /** Reads the next bytes; throws `StateSyntaxError` where the document stops being JSON. */
  push(bytes: Uint8Array): void {
    this.#slicer.push(bytes);
  }

  /** The document is complete: the state it holds (see the module comment). */
  end(): ReadState {
    this.#slicer.end();
    if (!this.#isObject) {
      const got = this.#notObject === undefined ? 'an array' : describe(this.#notObject);
      throw new StateParseError(`state document is not a JSON object (got ${got})`);
    }
    const report = new Report();
    const leader = parseLeader(this.#head, this.#leaderReport);
    report.absorb(this.#leaderReport);
    report.absorb(this.#agents.report);
    report.absorb(this.#recovered.report);
    report.absorb(this.#frameworkReport);
    const state = {
      leader,
      agents: this.#agents.items,
      frameworks: this.#frameworks,
      recoveredAgentIds: this.#recovered.items,
    };
    return {
      parsed: { state, report: report.result() },
      head: this.#head,
      hasLists: this.#hasLists,
    };
  }

  #agentSection(): ListSection<Agent> {
    const strings = this.#compactor;
    return new ListSection('slaves', 'agents', (v) => {
      const agent = parseAgent(v);
      return { ...agent, id: strings.string(agent.id) };
    });
  }

  #member(key: string | number, kind: ValueKind): Action {
    switch (key) {
      case 'leader':
      case 'pid':
      case 'leader_info':
        return COLLECT;
      case 'slaves':
        this.#agents = this.#agentSection();
        if (kind === 'array') this.#hasLists = true;
        return kind === 'array' ? this.#agents : COLLECT;
      case 'recovered_slaves':
        this.#recovered = new ListSection('recovered_slaves', 'agents', parseRecoveredAgent);
        return kind === 'array' ? this.#recovered : COLLECT;
      case 'frameworks':
        this.#frameworks = [];
        this.#frameworkReport = new Report();
        if (kind === 'array') this.#hasLists = true;
        return kind === 'array' ? this.#frameworkList() : COLLECT;
      default:
        return kind === 'array' ? SKIP_ALL : SKIP;
    }
  }

  #value(key: string | number, value: unknown): void {
    switch (key) {
      case 'leader':
      case 'pid':
      case 'leader_info':
        this.#head = { ...this.#head, [key]: value };
        return;
      case 'slaves':
        this.#agents.notAList(value);
        return;
      case 'recovered_slaves':
        this.#recovered.notAList(value);
        return;
      case 'frameworks':
        this.#frameworkReport.listEntries(
          { frameworks: value },
          undefined,
          'frameworks',
          'frameworks',
          () => {
            throw new Error('unreachable: not a list');
          },
        );
        return;
    }
  }

  /** The `frameworks` list: each framework read by a `FrameworkReader`, checked when complete. */
  #frameworkList(): SliceVisitor {
    const report = this.#frameworkReport;
    const frameworks = this.#frameworks;
    return {
      enter: (key, kind) => {
        const where = `frameworks[${String(key)}]`;
        if (kind !== 'object') return COLLECT;
        return new FrameworkReader(where, this.#compactor, (own, tasks, taskReport) => {
          const framework = report.entry(own, where, 'frameworks', (v): Framework => {
            const { id, name, pid, hostname } = parseFrameworkHead(v, where, report);
            const strings = this.#compactor;
            return { id: strings.string(id), name: strings.string(name), pid, hostname, tasks };
          });
          if (framework === undefined) return;
          report.absorb(taskReport);
          frameworks.push(framework);
        });
      },
      value: (key, value) => {
        // Not an object: skipped as parseState skips it.
        report.entry(value, `frameworks[${String(key)}]`, 'frameworks', (v) =>
          parseFrameworkHead(v, '', report),
        );
      },
    };
  }
}
