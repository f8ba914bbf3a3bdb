// A seeded, deterministic network simulation of Tendermint machines: message delay,
// reordering, loss and partitions before GST, crash/restart of honest nodes (with the
// persisted lock state and double-sign guard a real node keeps), and one Byzantine
// validator that equivocates. After GST the network is reliable and nodes re-send their
// current-height messages, as a real node does after a reconnect.
import { TendermintMachine } from '../machine.js';
import { proposerFor } from '../proposer.js';
import type { Input, LockState, Output, ProposalMsg, TimeoutConfig, ValidatorInfo, VoteMsg } from '../types.js';
import { Rng } from './rng.js';

export interface ScheduleConfig {
  seed: number;
  /** Genesis validators v0…v{n-1}, power 1 each. */
  n: number;
  heights: number;
  byzantine: boolean;
  crashes: number;
  /**
   * Validator-set changes by governance (docs/governance.md): from `height` on, `set` (ids are
   * signing keys) signs. Nodes v{n}… that appear only in a later set run as observers until
   * then; `keys` gives a node a further key, as a rotation by vote does (`v2` signs as `v2*`
   * at heights whose set holds `v2*`). The Byzantine validator, when there is one, is v0.
   */
  changes?: Array<{ height: number; set: ValidatorInfo[] }>;
  keys?: Record<string, string[]>;
}

export interface ScheduleResult {
  decided: number;
  evidence: number;
  events: number;
}

type Msg = ProposalMsg | VoteMsg | { type: 'commit'; height: number; value: string; precommits: VoteMsg[]; from: string };

interface SimNode {
  id: string;
  honest: boolean;
  up: boolean;
  epoch: number;
  height: number;
  machine?: TendermintMachine;
  persistedLock?: LockState;
  lastSigned?: { h: number; r: number; s: number; v: string | null };
  /** This height's proposals and votes, own and received, re-sent periodically. */
  sent: Msg[];
  seen: Set<string>;
  /** Own signed proposals and votes at the current height, kept on disk (survive a crash). */
  ownSigned: Msg[];
  decisions: Map<number, { value: string; precommits: VoteMsg[] }>;
  future: Msg[];
}

interface Event {
  at: number;
  seq: number;
  run: () => void;
}

const TIMEOUTS: TimeoutConfig = { propose: 300, proposeDelta: 100, prevote: 200, prevoteDelta: 100, precommit: 200, precommitDelta: 100 };
const STEP_ORDER = { proposal: 1, prevote: 2, precommit: 3 } as const;

export class SimulationFailure extends Error {}

/** Run one schedule; throws SimulationFailure naming the violated property. */
export function runSchedule(cfg: ScheduleConfig): ScheduleResult {
  const rng = new Rng(cfg.seed);
  const validators: ValidatorInfo[] = Array.from({ length: cfg.n }, (_, i) => ({ id: `v${i}`, power: 1 }));
  const changes = cfg.changes ?? [];
  /** The set that signs `height`: what ehr validatorSetEffectiveAt gives every node from committed state. */
  const setAt = (height: number): ValidatorInfo[] => {
    let set = validators;
    for (const c of changes) if (c.height <= height) set = c.set;
    return set;
  };
  const powerIn = (set: ValidatorInfo[], id: string) => set.find((v) => v.id === id)?.power ?? 0;
  const byzantineId = cfg.byzantine ? (changes.length > 0 ? 'v0' : (rng.pick(validators).id as string)) : undefined;
  // Every node that is ever a validator: the genesis ones, then the added ones (key aliases map to their node).
  const aliases = new Map<string, string>();
  for (const [node, extra] of Object.entries(cfg.keys ?? {})) for (const k of extra) aliases.set(k, node);
  const poolIds = [...validators.map((v) => v.id)];
  for (const c of changes)
    for (const v of c.set) {
      const node = aliases.get(v.id) ?? v.id;
      if (!poolIds.includes(node)) poolIds.push(node);
    }
  const nodes: SimNode[] = poolIds
    .map((id) => ({ id }))
    .map((v) => ({
      id: v.id,
      honest: v.id !== byzantineId,
      up: true,
      epoch: 0,
      height: 1,
      sent: [],
      seen: new Set(),
      ownSigned: [],
      decisions: new Map(),
      future: [],
    }));
  const byId = new Map(nodes.map((n) => [n.id, n]));
  /** The node that signs with key `key`. */
  const nodeOfKey = (key: string) => byId.get(aliases.get(key) ?? key);
  /** The key `node` signs with at `height`, or null when it is not a validator there. */
  const keyAt = (node: SimNode, height: number): string | null => {
    const set = setAt(height);
    for (const k of [node.id, ...(cfg.keys?.[node.id] ?? [])]) if (set.some((v) => v.id === k)) return k;
    return null;
  };
  const valid = new Map<string, boolean>();
  const proposed = new Set<string>();
  const signedBy = new Map<string, string | null>(); // `${node}/${h}/${r}/${type}` -> value, honest only
  const fail = (what: string): never => {
    throw new SimulationFailure(`${what} (seed ${cfg.seed}, n=${cfg.n}; replay with SIM_SEED=${cfg.seed} SIM_N=${cfg.n})`);
  };

  // --- event queue (binary heap by time, then insertion order) ---
  const heap: Event[] = [];
  let seq = 0;
  let now = 0;
  let events = 0;
  const push = (at: number, run: () => void) => {
    const e = { at, seq: seq++, run };
    heap.push(e);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const a = heap[p] as Event;
      if (a.at < e.at || (a.at === e.at && a.seq < e.seq)) break;
      heap[i] = a;
      i = p;
    }
    heap[i] = e;
  };
  const before = (x: Event, y: Event) => x.at < y.at || (x.at === y.at && x.seq < y.seq);
  const pop = (): Event | undefined => {
    const top = heap[0];
    const last = heap.pop() as Event;
    if (heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = -1;
      let best = last;
      if (l < heap.length && before(heap[l] as Event, best)) {
        m = l;
        best = heap[l] as Event;
      }
      if (r < heap.length && before(heap[r] as Event, best)) m = r;
      if (m === -1) break;
      heap[i] = heap[m] as Event;
      i = m;
    }
    heap[i] = last;
    return top;
  };

  // --- network: before GST lossy, delayed and partitioned; after GST reliable ---
  const gst = rng.int(500, 4000);
  const loss = rng.next() * 0.3;
  const partition = rng.chance(0.5) ? new Set(validators.filter(() => rng.chance(0.4)).map((v) => v.id)) : new Set<string>();
  // Messages travel between nodes; a message's `from` is the signing key, so address by node.
  const nodeIdOf = (from: string) => nodeOfKey(from)?.id ?? from;
  const partitionUntil = gst;
  const delay = () => (now < gst ? rng.int(1, 400) : rng.int(1, 40));
  const send = (fromKey: string, to: string, msg: Msg) => {
    const from = nodeIdOf(fromKey);
    if (from === to) return;
    if (now < gst) {
      if (rng.chance(loss)) return;
      if (now < partitionUntil && partition.has(from) !== partition.has(to)) return;
    }
    const target = byId.get(to) as SimNode;
    const epoch = target.epoch;
    push(now + delay(), () => {
      if (target.up && target.epoch === epoch) deliver(target, msg);
    });
  };
  const broadcast = (from: string, msg: Msg) => {
    for (const n of nodes) send(from, n.id, msg);
  };

  // --- honest nodes ---
  const startHeight = (node: SimNode) => {
    const restored = node.persistedLock?.height === node.height ? node.persistedLock : undefined;
    node.machine = new TendermintMachine({
      height: node.height,
      validators: setAt(node.height),
      self: keyAt(node, node.height),
      timeouts: TIMEOUTS,
      getValue: (h, r) => {
        const value = `h${h}-${node.id}-r${r}-${rng.int(0, 1e6)}`;
        valid.set(value, !rng.chance(0.1));
        proposed.add(value);
        return value;
      },
      isValid: (value) => valid.get(value) === true,
      ...(restored === undefined ? {} : { restored }),
    });
    node.sent = [];
    node.seen = new Set();
    if (restored === undefined) node.ownSigned = node.ownSigned.filter((m) => m.height === node.height);
    const future = node.future.filter((m) => m.height === node.height);
    node.future = node.future.filter((m) => m.height > node.height);
    apply(node, node.machine.start());
    // After a restart: re-send what this validator signed at this height before the crash
    // and let its own machine count it, as a node does from its persisted messages.
    for (const m of [...node.ownSigned]) {
      if (node.machine === undefined) break;
      broadcast(node.id, m);
      node.sent.push(m);
      apply(node, node.machine.handle(m as Input));
    }
    for (const m of future) deliver(node, m);
  };

  const guardAllows = (node: SimNode, h: number, r: number, step: keyof typeof STEP_ORDER, v: string | null): boolean => {
    const s = STEP_ORDER[step];
    const l = node.lastSigned;
    if (l !== undefined) {
      const cmp = h - l.h || r - l.r || s - l.s;
      if (cmp < 0 || (cmp === 0 && l.v !== v)) return false;
    }
    node.lastSigned = { h, r, s, v };
    return true;
  };

  const recordSigned = (node: SimNode, h: number, r: number, type: string, v: string | null) => {
    const key = `${node.id}/${h}/${r}/${type}`;
    if (signedBy.has(key) && signedBy.get(key) !== v) fail(`honest ${node.id} signed two different ${type}s at ${h}/${r}`);
    signedBy.set(key, v);
  };

  const decide = (node: SimNode, height: number, value: string, precommits: VoteMsg[]) => {
    node.decisions.set(height, { value, precommits });
    node.height = height + 1;
    node.machine = undefined;
    if (node.height <= cfg.heights) startHeight(node);
  };

  const apply = (node: SimNode, outputs: Output[]) => {
    const queue = [...outputs];
    while (queue.length > 0) {
      const out = queue.shift() as Output;
      const machine = node.machine;
      if (machine === undefined) return;
      if (out.type === 'propose') {
        if (!guardAllows(node, out.height, out.round, 'proposal', out.value)) continue;
        recordSigned(node, out.height, out.round, 'proposal', out.value);
        const msg: ProposalMsg = {
          type: 'proposal',
          height: out.height,
          round: out.round,
          value: out.value,
          validRound: out.validRound,
          from: keyAt(node, out.height) as string,
        };
        node.ownSigned.push(msg);
        node.sent.push(msg);
        broadcast(node.id, msg);
        queue.push(...machine.handle(msg));
      } else if (out.type === 'vote') {
        // The guard refuses a vote that conflicts with one signed before a crash; that
        // earlier vote was re-sent from the persisted messages on restart.
        if (!guardAllows(node, out.height, out.round, out.voteType, out.value)) continue;
        recordSigned(node, out.height, out.round, out.voteType, out.value);
        const msg: VoteMsg = {
          type: out.voteType,
          height: out.height,
          round: out.round,
          value: out.value,
          from: keyAt(node, out.height) as string,
        };
        node.ownSigned.push(msg);
        node.sent.push(msg);
        broadcast(node.id, msg);
        queue.push(...machine.handle(msg));
      } else if (out.type === 'scheduleTimeout') {
        const epoch = node.epoch;
        const input: Input = { type: 'timeout', step: out.step, height: out.height, round: out.round };
        push(now + out.durationMs, () => {
          if (node.up && node.epoch === epoch && node.machine === machine) apply(node, machine.handle(input));
        });
      } else if (out.type === 'decide') {
        decide(node, out.height, out.value, out.precommits);
        return;
      } else {
        evidenceCount++;
      }
      if (node.machine === machine) node.persistedLock = machine.lockState();
    }
  };

  let evidenceCount = 0;

  /** Precommits for `value` from distinct members of `height`'s set with more than 2/3 of its power. */
  const certified = (height: number, value: string, precommits: VoteMsg[]): boolean => {
    const set = setAt(height);
    const voters = new Set(precommits.filter((p) => p.value === value && p.height === height).map((p) => p.from));
    let power = 0;
    for (const id of voters) power += powerIn(set, id);
    const total = set.reduce((sum, v) => sum + v.power, 0);
    return power * 3 > total * 2;
  };

  const deliver = (node: SimNode, msg: Msg) => {
    if (!node.honest) return byzantineReact(node, msg);
    if (msg.type === 'commit') {
      if (msg.height !== node.height) return;
      if (!certified(msg.height, msg.value, msg.precommits)) return;
      decide(node, msg.height, msg.value, msg.precommits);
      return;
    }
    if (msg.height > node.height) {
      node.future.push(msg);
      // A peer is ahead: ask it for the decisions we miss (block sync).
      const peer = nodeOfKey(msg.from) as SimNode;
      const known = peer.decisions.get(node.height);
      if (peer.honest && known !== undefined)
        send(peer.id, node.id, { type: 'commit', height: node.height, value: known.value, precommits: known.precommits, from: peer.id });
      return;
    }
    if (msg.height < node.height || node.machine === undefined) return;
    // The driver's check where a message enters: only the set in effect at its height may sign.
    if (powerIn(setAt(msg.height), msg.from) === 0) return;
    // Keep it to relay: the gossip property (a message one correct node got, every
    // correct node gets after GST) is what Tendermint's liveness argument rests on.
    const key = `${msg.type}/${msg.round}/${msg.from}/${msg.value}`;
    if (node.seen.has(key)) return;
    node.seen.add(key);
    node.sent.push(msg);
    apply(node, node.machine.handle(msg));
  };

  // --- the Byzantine validator: equivocates on proposals and votes ---
  const byzantineRounds = new Set<string>();
  const byzantineReact = (node: SimNode, msg: Msg) => {
    if (msg.type === 'commit') return;
    const { height, round } = msg;
    // React once per (height, round): enough to equivocate to everyone, bounded traffic.
    if (byzantineRounds.has(`${height}/${round}`)) return;
    byzantineRounds.add(`${height}/${round}`);
    const values = [`byz-${height}-${round}-a`, `byz-${height}-${round}-b`];
    for (const v of values) {
      valid.set(v, true);
      proposed.add(v);
    }
    const targets = nodes.map((n) => n.id).filter((id) => id !== node.id);
    const half = rng.int(1, targets.length - 1);
    // Once removed it still signs with its old key: the honest nodes must ignore it.
    const key = keyAt(node, height) ?? node.id;
    if (proposerFor(setAt(height), height, round) === key) {
      targets.forEach((to, i) => {
        send(node.id, to, { type: 'proposal', height, round, value: values[i < half ? 0 : 1] as string, validRound: -1, from: key });
      });
    }
    const echo = msg.value;
    for (const type of ['prevote', 'precommit'] as const) {
      targets.forEach((to, i) => {
        const value = i < half ? echo : rng.pick([values[1] as string, null]);
        send(node.id, to, { type, height, round, value, from: key });
      });
    }
  };

  // --- re-gossip of the current height's own messages, and crash/restart ---
  const regossip = () => {
    for (const node of nodes) {
      if (!node.honest || !node.up) continue;
      for (const m of node.sent) broadcast(node.id, m);
      const prev = node.decisions.get(node.height - 1);
      if (prev !== undefined)
        broadcast(node.id, { type: 'commit', height: node.height - 1, value: prev.value, precommits: prev.precommits, from: node.id });
    }
    if (now < deadline) push(now + 250, regossip);
  };

  const crashables = nodes.filter((n) => n.honest);
  for (let c = 0; c < cfg.crashes; c++) {
    const victim = rng.pick(crashables);
    const downAt = rng.int(0, gst);
    const upAt = Math.min(gst, downAt + rng.int(100, 2000));
    push(downAt, () => {
      if (!victim.up) return;
      victim.up = false;
      victim.epoch++;
      victim.machine = undefined;
    });
    push(upAt, () => {
      if (victim.up) return;
      victim.up = true;
      victim.epoch++;
      if (victim.height <= cfg.heights) startHeight(victim);
    });
  }

  const deadline = gst + 60_000 + cfg.heights * 5_000;
  for (const node of nodes) if (node.honest) startHeight(node);
  push(250, regossip);

  const done = () => nodes.every((n) => !n.honest || n.decisions.size >= cfg.heights);
  while (heap.length > 0 && !done()) {
    const e = pop() as Event;
    if (e.at > deadline) break;
    now = e.at;
    events++;
    e.run();
  }

  // --- properties ---
  for (let h = 1; h <= cfg.heights; h++) {
    const decided = nodes.filter((n) => n.honest).map((n) => n.decisions.get(h)?.value);
    if (decided.some((v) => v === undefined)) fail(`termination: height ${h} not decided by every honest node after GST`);
    if (new Set(decided).size !== 1) fail(`agreement: honest nodes decided ${[...new Set(decided)].join(' and ')} at height ${h}`);
    const v = decided[0] as string;
    if (valid.get(v) !== true || !proposed.has(v)) fail(`validity: decided value ${v} at height ${h} was not a valid proposal`);
    for (const n of nodes)
      if (n.honest && !certified(h, v, n.decisions.get(h)?.precommits ?? []))
        fail(`certification: ${n.id}'s decision at height ${h} is not signed by more than 2/3 of that height's validator set`);
  }
  return { decided: cfg.heights, evidence: evidenceCount, events };
}
