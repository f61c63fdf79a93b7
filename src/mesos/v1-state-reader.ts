/**
 * A v1 event read as its bytes arrive (issue #20): the SUBSCRIBED record of the event stream
 * carries the whole cluster (`subscribed.get_state`, 178 MB at 100k tasks), and `JsonSlicer`
 * cuts it into agents, recovered agents, frameworks and tasks, each parsed alone and validated by
 * the entry readers of v1.ts (`parseV1Agent`, `parseV1Task`...), then dropped. Neither the
 * record's text nor its object graph ever exists; a load holds the snapshot it builds and about
 * one task's text.
 *
 * The result is `parseV1Event(JSON.parse(record))` for any record, SUBSCRIBED or not, with the
 * same report (counters and problems, in the same order) and the same errors: the members other
 * than `subscribed` are collected whole, and at the end a stand-in record (those members, and a
 * `subscribed` whose `get_state` was already read) goes through v1.ts `readV1Event`, which makes
 * every check of the event itself. JSON members come in any order: `subscribed` is sliced as it
 * comes, whatever the `type`, and the `type` decides at the end (a record that turns out not to
 * be SUBSCRIBED drops what was sliced). As with `JSON.parse`, a member given twice counts once,
 * the last. Executors, completed and unreachable tasks and the like are parsed one element at a
 * time for their syntax, and dropped.
 *
 * With `compact`, tasks are compacted as they are read (compact.ts: the latest running status
 * only, repeated strings shared), as the poll mode's reader does; the stream model trims the
 * statuses anyway.
 *
 * With `knownTasks` (the stream, task-digests.ts), each task's slice is digested (SHA-256 of its
 * bytes) before it is parsed, and the snapshot gets `taskDigests`, index for index with its tasks;
 * a slice whose digest `knownTasks` knows is the task it names (the model's, made from the same
 * bytes by an earlier snapshot), taken without parsing: the same snapshot and report as a parse.
 *
 * Errors: a syntax error is a `StateSyntaxError` (line and column in the record, 1-based); an
 * invalid event a `StateParseError`, with `parseV1Event`'s message.
 */
import { StateParseError } from '../errors.js';
import { COLLECT, SKIP, SKIP_ALL } from '../json-slices.js';
import type { SliceVisitor, ValueKind } from '../json-slices.js';
import { StateSlicer } from './document.js';
import { TaskCompactor } from './compact.js';
import type { EntryKind, JsonObject } from './narrow.js';
import { Report } from './narrow.js';
import type { KnownTasks } from './task-digests.js';
import { sliceDigest } from './task-digests.js';
import type { Agent, Task } from './types.js';
import type { FrameworkInfo, MesosEvent, ParsedV1State } from './v1.js';
import {
  parseV1Agent,
  parseV1Framework,
  parseV1RecoveredAgent,
  parseV1State,
  parseV1Task,
  readV1Event,
} from './v1.js';

type Action = SliceVisitor | typeof COLLECT | typeof SKIP;

/**
 * Drops a value, descending into objects and arrays down to the elements of lists, each parsed
 * (for its syntax) and dropped alone: `get_executors.executors` is one executor at a time.
 */
const SKIP_LISTS: SliceVisitor = {
  enter: (_key, kind) => (kind === 'object' ? SKIP_LISTS : kind === 'array' ? SKIP_ALL : SKIP),
  value: () => undefined,
};

/**
 * A value read for its shape only (a section or list of the wrong type, for the report): a
 * scalar is collected, an object or array is dropped and stands as `{}` or `[]`, which the
 * readers describe alike ("got object", "got an array").
 */
class Shape {
  value: unknown;

  /** The value starts: what to do with it. */
  enter(kind: ValueKind): Action {
    if (kind === 'scalar') return COLLECT;
    this.value = kind === 'array' ? [] : {};
    return kind === 'array' ? SKIP_ALL : SKIP_LISTS;
  }
}

/** One list of a section (`get_tasks.tasks`), each element parsed as it comes. */
class EntryList<T> implements SliceVisitor {
  readonly items: T[] = [];
  readonly report = new Report();
  readonly #path: string;
  readonly #kind: EntryKind;
  readonly #parse: (v: unknown) => T;

  constructor(path: string, kind: EntryKind, parse: (v: unknown) => T) {
    this.#path = path;
    this.#kind = kind;
    this.#parse = parse;
  }

  enter(): Action {
    return COLLECT;
  }

  value(key: string | number, value: unknown): void {
    const item = this.report.entry(value, `${this.#path}[${String(key)}]`, this.#kind, this.#parse);
    if (item !== undefined) this.items.push(item);
  }
}

/**
 * An `EntryList` whose elements' bytes are digested first (`digests`, index for index with
 * `items`; task-digests.ts): an element whose digest `known` knows is its entry, not parsed.
 */
class DigestedList<T> extends EntryList<T> {
  readonly digests: string[] = [];
  readonly #known: (digest: string) => T | undefined;
  /** The digest of the element being parsed. */
  #digest = '';

  constructor(
    path: string,
    kind: EntryKind,
    parse: (v: unknown) => T,
    known: (digest: string) => T | undefined,
  ) {
    super(path, kind, parse);
    this.#known = known;
  }

  raw(_key: string | number, bytes: Buffer): boolean {
    const digest = sliceDigest(bytes);
    const known = this.#known(digest);
    if (known === undefined) {
      this.#digest = digest;
      return false;
    }
    // The same bytes made this entry before: valid then, valid now, nothing to report.
    this.items.push(known);
    this.digests.push(digest);
    return true;
  }

  override value(key: string | number, value: unknown): void {
    const before = this.items.length;
    super.value(key, value);
    if (this.items.length > before) this.digests.push(this.#digest);
  }
}

/** A list member of a section: a list read as it comes, or a value of another type. */
class ListSlot<T> {
  readonly #section: string;
  readonly key: string;
  readonly #kind: EntryKind;
  readonly #parse: (v: unknown) => T;
  /** Entries known by digest (`DigestedList`), for the tasks of a stream's snapshot. */
  readonly #known: ((digest: string) => T | undefined) | undefined;
  #list: EntryList<T> | undefined;
  #other = new Shape();

  constructor(
    section: string,
    key: string,
    kind: EntryKind,
    parse: (v: unknown) => T,
    known?: (digest: string) => T | undefined,
  ) {
    this.#section = section;
    this.key = key;
    this.#kind = kind;
    this.#parse = parse;
    this.#known = known;
  }

  enter(kind: ValueKind): Action {
    this.#other = new Shape();
    this.#list = undefined;
    if (kind !== 'array') return this.#other.enter(kind);
    const path = `${this.#section}.${this.key}`;
    this.#list =
      this.#known === undefined
        ? new EntryList(path, this.#kind, this.#parse)
        : new DigestedList(path, this.#kind, this.#parse, this.#known);
    return this.#list;
  }

  /** The digests of the entries (`DigestedList`), index for index; empty when none were read. */
  get digests(): string[] {
    return this.#list instanceof DigestedList ? this.#list.digests : [];
  }

  value(value: unknown): void {
    this.#other.value = value;
  }

  /** The entries read, their problems added to `report` (`Report.listEntries` for another type). */
  finish(report: Report): T[] {
    if (this.#list !== undefined) {
      report.absorb(this.#list.report);
      return this.#list.items;
    }
    return report.listEntries(
      { [this.key]: this.#other.value },
      this.#section,
      this.key,
      this.#kind,
      () => {
        throw new Error('unreachable: not a list');
      },
    );
  }
}

/** A section of `get_state` (`get_agents`...): its lists read, anything else dropped. */
class Section implements SliceVisitor {
  readonly #slots: ReadonlyMap<string, ListSlot<unknown>>;

  constructor(slots: readonly ListSlot<unknown>[]) {
    this.#slots = new Map(slots.map((slot) => [slot.key, slot]));
  }

  enter(key: string | number, kind: ValueKind): Action {
    const slot = typeof key === 'string' ? this.#slots.get(key) : undefined;
    return slot === undefined ? SKIP_LISTS.enter(key, kind) : slot.enter(kind);
  }

  value(key: string | number, value: unknown): void {
    if (typeof key === 'string') this.#slots.get(key)?.value(value);
  }
}

const SECTIONS = ['get_agents', 'get_frameworks', 'get_tasks'] as const;
type SectionKey = (typeof SECTIONS)[number];

function sectionKey(key: string | number): SectionKey | undefined {
  return SECTIONS.find((s) => s === key);
}

/**
 * A `get_state` object: its three sections, each an object read as it comes (its lists in the
 * slots below) or another value (its shape, for the report).
 */
class GetState implements SliceVisitor {
  readonly #compactor: TaskCompactor | undefined;
  readonly #known: KnownTasks | undefined;
  readonly #shapes = new Map<SectionKey, Shape>();
  #agents: ListSlot<Agent> | undefined;
  #recovered: ListSlot<string> | undefined;
  #frameworks: ListSlot<FrameworkInfo> | undefined;
  #tasks: ListSlot<Task> | undefined;

  constructor(tasks: TaskReading) {
    this.#compactor = tasks.compactor;
    this.#known = tasks.known;
  }

  enter(key: string | number, kind: ValueKind): Action {
    const section = sectionKey(key);
    if (section === undefined) return SKIP_LISTS.enter(key, kind);
    // A section given again replaces the first (the last counts, as with JSON.parse).
    this.#shapes.delete(section);
    if (section === 'get_agents') this.#agents = this.#recovered = undefined;
    else if (section === 'get_frameworks') this.#frameworks = undefined;
    else this.#tasks = undefined;
    if (kind !== 'object') {
      const shape = new Shape();
      this.#shapes.set(section, shape);
      return shape.enter(kind);
    }
    const strings = this.#compactor;
    switch (section) {
      case 'get_agents':
        this.#agents = new ListSlot('get_agents', 'agents', 'agents', (v) => {
          const agent = parseV1Agent(v);
          return strings === undefined ? agent : { ...agent, id: strings.string(agent.id) };
        });
        this.#recovered = new ListSlot(
          'get_agents',
          'recovered_agents',
          'agents',
          parseV1RecoveredAgent,
        );
        return new Section([this.#agents, this.#recovered]);
      case 'get_frameworks':
        this.#frameworks = new ListSlot('get_frameworks', 'frameworks', 'frameworks', (v) => {
          const fw = parseV1Framework(v);
          if (strings === undefined) return fw;
          return { ...fw, id: strings.string(fw.id), name: strings.string(fw.name) };
        });
        return new Section([this.#frameworks]);
      case 'get_tasks': {
        const known = this.#known;
        this.#tasks = new ListSlot(
          'get_tasks',
          'tasks',
          'tasks',
          (v) => {
            const task = parseV1Task(v);
            return strings === undefined ? task : strings.task(task);
          },
          known === undefined ? undefined : (digest) => known.knownTask(digest),
        );
        return new Section([this.#tasks]);
      }
    }
  }

  value(key: string | number, value: unknown): void {
    const section = sectionKey(key);
    const shape = section === undefined ? undefined : this.#shapes.get(section);
    if (shape !== undefined) shape.value = value;
  }

  /** The snapshot read, as `parseV1State` makes it of the same object. */
  result(): ParsedV1State {
    const report = new Report();
    // The sections of another type first, then the lists, as parseV1State reports them.
    for (const key of SECTIONS) {
      const shape = this.#shapes.get(key);
      if (shape !== undefined) report.section({ [key]: shape.value }, key, 'get_state');
    }
    const agents = this.#agents?.finish(report) ?? [];
    const recoveredAgentIds = this.#recovered?.finish(report) ?? [];
    const frameworks = this.#frameworks?.finish(report) ?? [];
    const tasks = this.#tasks?.finish(report) ?? [];
    const state = { agents, frameworks, tasks, recoveredAgentIds };
    if (this.#known === undefined) return { state, report: report.result() };
    return {
      state: { ...state, taskDigests: this.#tasks?.digests ?? [] },
      report: report.result(),
    };
  }
}

/** The `subscribed` member of a record: `get_state` read as it comes, the heartbeat kept. */
class Subscribed implements SliceVisitor {
  readonly #tasks: TaskReading;
  /** `get_state` when it is an object; its shape when it is not; undefined when absent. */
  #getState: GetState | Shape | undefined;
  #heartbeat: Shape | undefined;

  constructor(tasks: TaskReading) {
    this.#tasks = tasks;
  }

  enter(key: string | number, kind: ValueKind): Action {
    switch (key) {
      case 'get_state':
        if (kind === 'object') {
          this.#getState = new GetState(this.#tasks);
          return this.#getState;
        }
        this.#getState = new Shape();
        return this.#getState.enter(kind);
      case 'heartbeat_interval_seconds':
        this.#heartbeat = new Shape();
        return this.#heartbeat.enter(kind);
      default:
        return SKIP_LISTS.enter(key, kind);
    }
  }

  value(key: string | number, value: unknown): void {
    const shape = key === 'get_state' ? this.#getState : this.#heartbeat;
    if (shape instanceof Shape) shape.value = value;
  }

  /** The member as `readV1Event` reads it: a `get_state` read already stands as `{}`. */
  standIn(): JsonObject {
    const body: Record<string, unknown> = {};
    const getState = this.#getState;
    if (getState !== undefined) {
      body['get_state'] = getState instanceof Shape ? getState.value : {};
    }
    if (this.#heartbeat !== undefined) body['heartbeat_interval_seconds'] = this.#heartbeat.value;
    return body;
  }

  /** The snapshot of the `get_state` read (called only once it is known to be an object). */
  state(): ParsedV1State {
    if (!(this.#getState instanceof GetState)) throw new Error('unreachable: get_state not read');
    return this.#getState.result();
  }
}

/** Options of `V1EventReader`. */
export interface V1EventReaderOptions {
  /** Compact tasks as they are read (see the module comment); default false. */
  readonly compact?: boolean;
  /**
   * Digest each task's slice (the snapshot's `taskDigests`) and take a slice whose digest this
   * knows as its task, unparsed (task-digests.ts): the stream, whose model knows the tasks.
   */
  readonly knownTasks?: KnownTasks;
}

/** How a reader reads tasks. */
interface TaskReading {
  readonly compactor: TaskCompactor | undefined;
  readonly known: KnownTasks | undefined;
}

/** The task reading a reader's options ask for. */
function taskReading(options: V1EventReaderOptions): TaskReading {
  return {
    compactor: options.compact === true ? new TaskCompactor() : undefined,
    known: options.knownTasks,
  };
}

/** Reads one v1 event (a RecordIO record) from its bytes; `push` each piece, then `end`. */
export class V1EventReader {
  readonly #slicer: StateSlicer;
  readonly #tasks: TaskReading;
  /** The record's members but `subscribed` (null prototype: `__proto__` is a member like any). */
  readonly #members: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  /** `subscribed` when it is an object; its shape when it is not; undefined when absent. */
  #subscribed: Subscribed | Shape | undefined;
  /** The record itself when it is not an object (its shape). */
  #notObject: Shape | undefined;

  constructor(options: V1EventReaderOptions = {}) {
    this.#tasks = taskReading(options);
    const members: SliceVisitor = {
      enter: (key, kind) => this.#member(key, kind),
      value: (key, value) => {
        if (key === 'subscribed') {
          if (this.#subscribed instanceof Shape) this.#subscribed.value = value;
        } else {
          this.#members[key] = value;
        }
      },
    };
    this.#slicer = new StateSlicer(
      {
        enter: (_key, kind) => {
          if (kind === 'object') return members;
          this.#notObject = new Shape();
          return this.#notObject.enter(kind);
        },
        value: (_key, value) => {
          if (this.#notObject !== undefined) this.#notObject.value = value;
        },
        // A record's text is not a file's: JSON.parse refuses a byte order mark, and so does this.
      },
      { bom: false },
    );
  }

  /** Reads the next bytes; throws `StateSyntaxError` where the record stops being JSON. */
  push(bytes: Uint8Array): void {
    this.#slicer.push(bytes);
  }

  /**
   * The record is complete: its event, as `parseV1Event` reads it. Throws `StateSyntaxError`
   * when the record ended early, `StateParseError` when it is not a valid event.
   */
  end(): MesosEvent {
    this.#slicer.end();
    const subscribed = this.#subscribed;
    if (this.#notObject !== undefined) return readV1Event(this.#notObject.value, unread);
    const record = this.#members;
    if (subscribed !== undefined) {
      record['subscribed'] = subscribed instanceof Shape ? subscribed.value : subscribed.standIn();
    }
    return readV1Event(record, () => {
      if (!(subscribed instanceof Subscribed)) throw new Error('unreachable: subscribed not read');
      return subscribed.state();
    });
  }

  #member(key: string | number, kind: ValueKind): Action {
    if (key !== 'subscribed') return COLLECT;
    if (kind === 'object') {
      this.#subscribed = new Subscribed(this.#tasks);
      return this.#subscribed;
    }
    this.#subscribed = new Shape();
    return this.#subscribed.enter(kind);
  }
}

/** `readV1Event`'s state reader for a record that is not an object (never called). */
function unread(): never {
  throw new Error('unreachable: no get_state in a record that is not an object');
}

/**
 * Reads a `GET_STATE` answer (`{"type":"GET_STATE","get_state":{...}}`, the stream's periodic
 * resync, 178 MB at 100k tasks) as its bytes arrive, as `V1EventReader` reads a SUBSCRIBED
 * record: `get_state` is sliced, every other member dropped. `end` gives what `parseV1State`
 * gives of the same `get_state`, and throws its errors.
 */
export class V1GetStateReader {
  readonly #slicer: StateSlicer;
  #getState: GetState | Shape | undefined;

  constructor(options: V1EventReaderOptions = {}) {
    const tasks = taskReading(options);
    const members: SliceVisitor = {
      enter: (key, kind) => {
        if (key !== 'get_state') return SKIP_LISTS.enter(key, kind);
        if (kind === 'object') {
          this.#getState = new GetState(tasks);
          return this.#getState;
        }
        this.#getState = new Shape();
        return this.#getState.enter(kind);
      },
      value: (key, value) => {
        if (key === 'get_state' && this.#getState instanceof Shape) this.#getState.value = value;
      },
    };
    this.#slicer = new StateSlicer(
      { enter: (_key, kind) => (kind === 'object' ? members : SKIP_ALL), value: () => undefined },
      { bom: false },
    );
  }

  /** Reads the next bytes; throws `StateSyntaxError` where the answer stops being JSON. */
  push(bytes: Uint8Array): void {
    this.#slicer.push(bytes);
  }

  /** The answer is complete: its state, as `parseV1State` reads `get_state`. */
  end(): ParsedV1State {
    this.#slicer.end();
    const getState = this.#getState;
    if (getState === undefined) throw new StateParseError('GET_STATE answer without get_state');
    return getState instanceof GetState ? getState.result() : parseV1State(getState.value);
  }
}
