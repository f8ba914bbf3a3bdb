// The explorer for auditors and operators: chain height, validators and whether they are
// signing, recent blocks, and a "verify" that re-checks blocks and commits in this browser.
// Nodes show entries (kinds only here — nothing is decrypted) to consortium members and
// auditors; an anonymous visitor sees each block's entry fingerprints (leaf hashes) only.
import { hasClientCode, NodeConnection, type NodeStatus } from '@medledger/client';
import { ValidatorSetTracker } from '@medledger/client/light';
import { generateKeyBundle } from '@medledger/crypto/browser';
import { type Genesis, genesisEngine, parseGenesis } from '@medledger/ledger';
import { useMemo, useState } from 'react';
import { NODE_URL } from '../session.js';
import { TechnicalDetails } from '../technical.js';
import { ActionButton, ErrorMessage, formatDateTime, Link, Loading, PageTitle, useLoad } from '../ui.js';
import { type BlockCheck, checkBlock, parseStoredBlock, type StoredBlock, type Validators } from '../verify.js';

const RECENT = 10;
/** Most blocks one verify run fetches and checks (the newest ones). */
const VERIFY_MAX = 200;

const KIND_WORDS: Record<string, string> = {
  'identity.register': 'A patient joined',
  'staff.register': 'An organization added a staff member',
  'staff.revoke': 'An organization closed a staff account',
  'identity.rotate': 'Someone changed their keys',
  'record.anchor': 'A record was added',
  'record.share': 'Records were shared',
  'record.erase': 'A record was erased',
  'consent.grant': 'Access was granted',
  'consent.revoke': 'Access was stopped',
  'delegate.set': 'A delegate was invited',
  'delegate.accept': 'A delegate accepted',
  'delegate.remove': 'A delegate was removed',
  'access.event': 'Record accesses were logged',
  'evidence.equivocation': 'Misbehaviour evidence was recorded',
};

// Chain endpoints need no sign-in; a throwaway key satisfies the connection's constructor.
function useConnection(): NodeConnection {
  return useMemo(() => new NodeConnection({ url: NODE_URL, keys: generateKeyBundle() }), []);
}

/**
 * A block as the server answers it, which must be of the engine `genesis` names (refused
 * with ENGINE_MISMATCH otherwise); `validators` name a CometBFT block's signers (CometBFT
 * names them by address).
 */
async function fetchBlock(
  conn: NodeConnection,
  height: number,
  validators: Validators,
  genesis: Pick<Genesis, 'engine'>,
): Promise<StoredBlock> {
  return parseStoredBlock(await conn.get(`/v1/blocks/${height}`), validators, genesisEngine(genesis));
}

function validatorsOf(status: NodeStatus): Validators {
  return status.validators as Validators;
}

/**
 * The validator sets of the chain, followed from `genesis` (the file the user gave, else the
 * server's) through the block headers, so each block is checked against the set in effect at
 * its height: governance adds, removes and rotates validators (docs/governance.md).
 */
async function validatorSets(conn: NodeConnection, genesis?: Genesis): Promise<ValidatorSetTracker> {
  const g = genesis ?? parseGenesis(await conn.get('/v1/genesis'));
  return new ValidatorSetTracker(g, { get: (path) => conn.get(path) });
}

/** The set in effect at `height`, or the reason the headers before it do not prove one. */
async function setAt(sets: ValidatorSetTracker, height: number): Promise<Validators | string> {
  try {
    return await sets.validatorsAt(height);
  } catch (err) {
    return `the validator sets before it cannot be followed from the genesis (${(err as Error).message})`;
  }
}

/** checkBlock under the set followed to its height; a set that cannot be followed fails the block. */
function checkUnder(sets: ValidatorSetTracker, set: Validators | string, stored: StoredBlock, previous?: StoredBlock): BlockCheck {
  if (typeof set === 'string')
    return { height: stored.block.header.height, ok: false, problem: set, signers: [], bodiesChecked: stored.block.txs !== undefined };
  return checkBlock(sets.chainId, set, stored, previous, genesisEngine(sets.genesis));
}

export function Explorer() {
  const conn = useConnection();
  const { data, error, reload } = useLoad(async () => {
    const status = await conn.status();
    const genesis = parseGenesis(await conn.get('/v1/genesis'));
    const heights = Array.from({ length: Math.min(RECENT, status.height) }, (_, i) => status.height - i);
    const blocks = await Promise.all(heights.map((h) => fetchBlock(conn, h, validatorsOf(status), genesis)));
    return { status, blocks };
  }, [conn]);
  if (error !== undefined)
    return (
      <section>
        <PageTitle>Network explorer</PageTitle>
        <ErrorMessage error={error} title="The network could not be reached." />
      </section>
    );
  if (data === undefined) return <Loading what="the network" />;
  const { status, blocks } = data;
  const validators = validatorsOf(status);
  // Live: signed at least one of the recent commits.
  const recentSigners = new Set(blocks.flatMap((b) => b.commit.signatures.map((s) => s.validator)));
  return (
    <section>
      <PageTitle>Network explorer</PageTitle>
      <p>What the MedLedger network has recorded. Health information is never shown here: it is locked and kept off the ledger.</p>
      <dl className="stats">
        <div>
          <dt>Blocks</dt>
          <dd data-testid="height">{status.height}</dd>
        </div>
        <div>
          <dt>Last block</dt>
          <dd className="small">{formatDateTime(status.lastBlockTime as number | null)}</dd>
        </div>
        <div>
          <dt>Keeping the ledger</dt>
          <dd className="small" data-testid="keepers">
            {validators.filter((v) => recentSigners.has(v.publicKey)).length} of {validators.length} organizations confirming blocks
          </dd>
        </div>
      </dl>
      <button type="button" className="secondary" onClick={reload}>
        Refresh
      </button>
      <TechnicalDetails>
        <dl className="details">
          <dt>This server</dt>
          <dd>{String(status.name ?? 'node')}</dd>
          <dt>Network</dt>
          <dd>{status.chainId}</dd>
          <dt>Connected peers</dt>
          <dd>{Array.isArray(status.peers) ? status.peers.length : '—'}</dd>
        </dl>
        <h2>Validators</h2>
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Validators and whether they signed recent blocks</caption>
            <thead>
              <tr>
                <th scope="col">Validator</th>
                <th scope="col">Voting power</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {validators.map((v) => (
                <tr key={v.publicKey}>
                  <td>{v.name}</td>
                  <td>{v.power}</td>
                  <td>
                    {recentSigners.has(v.publicKey) ? (
                      <span className="badge ok">Live — signing blocks</span>
                    ) : (
                      <span className="badge bad">Not signing recent blocks</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </TechnicalDetails>
      <Verify conn={conn} status={status} />
      <h2>Latest blocks</h2>
      <table>
        <caption className="visually-hidden">The {blocks.length} latest blocks</caption>
        <thead>
          <tr>
            <th scope="col">Block</th>
            <th scope="col">Time</th>
            <th scope="col">Entries</th>
          </tr>
        </thead>
        <tbody>
          {blocks.map((b) => (
            <tr key={b.hash}>
              <td>
                <Link to={`/explorer/blocks/${b.block.header.height}`}>#{b.block.header.height}</Link>
              </td>
              <td>{formatDateTime(b.block.header.time)}</td>
              <td>{b.leaves.length}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/**
 * Verify: fetch the newest blocks and check them here. A genesis file that cannot be used
 * (not a genesis file, or another network's) is an error and blocks the check: the result
 * never shows green next to a file it did not use.
 */
function Verify(props: { conn: NodeConnection; status: NodeStatus }) {
  const [result, setResult] = useState<{ checks: BlockCheck[]; from: number; to: number; trusted: string } | undefined>(undefined);
  const [progress, setProgress] = useState<string | undefined>(undefined);
  const [genesis, setGenesis] = useState<Genesis | undefined>(undefined);
  const [genesisProblem, setGenesisProblem] = useState<string | undefined>(undefined);
  async function loadGenesis(file: File | undefined) {
    setGenesis(undefined);
    setGenesisProblem(undefined);
    setResult(undefined);
    if (file === undefined) return;
    let parsed: Genesis;
    try {
      parsed = parseGenesis(JSON.parse(await file.text()));
    } catch {
      setGenesisProblem('This is not a MedLedger genesis file. Choose the genesis.json your network operator published.');
      return;
    }
    if (parsed.chainId !== props.status.chainId) {
      setGenesisProblem(
        `This genesis file is for another network (“${parsed.chainId}”); this server is on “${props.status.chainId}”. Nothing was checked. Choose your network’s genesis file, or use a server of your network.`,
      );
      return;
    }
    setGenesis(parsed);
  }
  async function run() {
    setResult(undefined);
    if (genesisProblem !== undefined) return;
    const status = await props.conn.status();
    // With the network's genesis file the check trusts no server; without it, it starts from
    // the genesis this server reports. Either way it follows every validator-set change, on
    // the engine the genesis names.
    const sets = await validatorSets(props.conn, genesis);
    const to = status.height;
    const from = Math.max(1, to - VERIFY_MAX + 1);
    const checks: BlockCheck[] = [];
    let previous: StoredBlock | undefined;
    for (let h = from; h <= to; h++) {
      if (h % 10 === 0) setProgress(`Checked ${h - from} of ${to - from + 1} blocks…`);
      const set = await setAt(sets, h);
      let stored: StoredBlock;
      try {
        stored = await fetchBlock(props.conn, h, typeof set === 'string' ? [] : set, sets.genesis);
      } catch (err) {
        // A block of the other engine than the genesis names (or one that cannot be read) fails.
        checks.push({ height: h, ok: false, problem: (err as Error).message, signers: [], bodiesChecked: false });
        previous = undefined;
        continue;
      }
      checks.push(checkUnder(sets, set, stored, previous));
      previous = stored;
    }
    setProgress(undefined);
    setResult({ checks, from, to, trusted: genesis === undefined ? 'the genesis file this server reports' : 'your genesis file' });
  }
  const withheld = result?.checks.some((c) => !c.bodiesChecked) ?? false;
  const bad = result?.checks.filter((c) => !c.ok) ?? [];
  return (
    <section className="panel" aria-labelledby="verify-title">
      <h2 id="verify-title">Verify the chain</h2>
      <p>
        Your browser fetches the latest blocks (up to {VERIFY_MAX}) and checks each one itself: that it links to the block before, that its
        contents match its header, and that more than two thirds of the organizations keeping the ledger confirmed it.
      </p>
      <TechnicalDetails what="technical options">
        <label htmlFor="genesis-file">The network’s genesis file (optional)</label>
        <p className="hint" id="genesis-hint">
          With it, the check trusts no server at all. Without it, the check starts from the genesis this server reports. Either way it
          follows every change to the validators voted since.
        </p>
        <input
          id="genesis-file"
          type="file"
          accept=".json,application/json"
          aria-describedby="genesis-hint"
          onChange={(e) => loadGenesis(e.target.files?.[0])}
        />
      </TechnicalDetails>
      {genesisProblem && (
        <div className="message error" role="alert" data-testid="genesis-problem">
          {genesisProblem}
        </div>
      )}
      {genesis && (
        <p role="status">
          Genesis file loaded: network “{genesis.chainId}”, {genesis.validators.length} validators.
        </p>
      )}
      {genesisProblem === undefined && (
        <ActionButton busyText="Verifying…" onAction={run}>
          Verify
        </ActionButton>
      )}
      {progress && <p role="status">{progress}</p>}
      {result && genesisProblem === undefined && (
        <div role="status" data-testid="verify-result" className={`message ${bad.length === 0 ? 'ok' : 'error'}`}>
          {result.checks.length === 0 ? (
            'There are no blocks to check yet.'
          ) : bad.length === 0 ? (
            <>
              <strong>All {result.checks.length} blocks check out</strong> (blocks {result.from} to {result.to}): each is confirmed by more
              than two thirds of the organizations keeping the ledger and links to the one before. Checked against {result.trusted}.
              {withheld && (
                <p data-testid="verify-limits">
                  Not checked: the entries themselves. This server shows who shared what with whom only to the network’s member
                  organizations and auditors, so your browser checked each block’s list of entry fingerprints against its header, but not
                  the entries’ signatures or contents. Member organizations and auditors check those with their own sign-in, or offline with
                  “medledger verify” on a node’s data.
                </p>
              )}
            </>
          ) : (
            <>
              <strong>
                {bad.length} of {result.checks.length} blocks failed.
              </strong>
              <ul>
                {bad.slice(0, 10).map((c) => (
                  <li key={c.height}>
                    Block {c.height}: {c.problem}
                  </li>
                ))}
              </ul>
              Do not trust this server; report it to the network's operators.
            </>
          )}
        </div>
      )}
    </section>
  );
}

export function BlockPage(props: { height: number }) {
  const conn = useConnection();
  const { data, error } = useLoad(async () => {
    const status = await conn.status();
    const sets = await validatorSets(conn);
    let stored: StoredBlock;
    try {
      stored = await fetchBlock(conn, props.height, validatorsOf(status), sets.genesis);
    } catch (err) {
      // A height past the tip (or pruned) is a plain answer, not "something went wrong".
      if (hasClientCode(err, 'BLOCK_NOT_FOUND')) return { missing: true as const, status };
      throw err;
    }
    const previous = props.height > 1 ? await fetchBlock(conn, props.height - 1, validatorsOf(status), sets.genesis) : undefined;
    const set = await setAt(sets, props.height);
    return { missing: false as const, status, stored, set, check: checkUnder(sets, set, stored, previous) };
  }, [props.height]);
  if (data?.missing === true)
    return (
      <section>
        <PageTitle>Block {props.height}</PageTitle>
        <div className="message warn" role="status" data-testid="block-missing">
          <strong>There is no block {props.height}.</strong>{' '}
          {props.height > data.status.height
            ? `The chain has ${data.status.height} blocks so far; block ${props.height} has not been made yet.`
            : 'This server does not have it. Try another server of the network.'}
        </div>
        <Link to="/explorer">Back to the explorer</Link>
      </section>
    );
  if (error !== undefined)
    return (
      <section>
        <PageTitle>Block {props.height}</PageTitle>
        <ErrorMessage error={error} title="This block could not be loaded." />
        <Link to="/explorer">Back to the explorer</Link>
      </section>
    );
  if (data === undefined) return <Loading what={`block ${props.height}`} />;
  const { stored, check, set } = data;
  const signersOf = typeof set === 'string' ? [] : set;
  const names = new Map(signersOf.map((v) => [v.publicKey, v.name]));
  const keepers = signersOf.length;
  const h = stored.block.header;
  return (
    <section>
      <p>
        <Link to="/explorer">← Explorer</Link>
      </p>
      <PageTitle>Block {h.height}</PageTitle>
      <div role="status" className={`message ${check.ok ? 'ok' : 'error'}`}>
        {check.ok
          ? `Checked in your browser: signed by ${check.signers.length} of the ${keepers} organizations keeping the ledger.`
          : `This block failed its check: ${check.problem}.`}
      </div>
      <dl className="details">
        <dt>Time</dt>
        <dd>{formatDateTime(h.time)}</dd>
        <dt>Entries</dt>
        <dd>{stored.leaves.length}</dd>
      </dl>
      <h2>Entries</h2>
      {stored.leaves.length === 0 && <p className="empty">This block has no entries.</p>}
      {stored.block.txs === undefined && stored.leaves.length > 0 && (
        <p data-testid="entries-withheld">
          What these entries are is shown only to the network’s member organizations and auditors: they say who shared records with whom.
          Your browser checked the entries’ fingerprints against the block header.
        </p>
      )}
      <ol className="plain">
        {(stored.block.txs ?? []).map((tx, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a block's order is fixed
          <li key={i}>{KIND_WORDS[tx.kind] ?? tx.kind}</li>
        ))}
      </ol>
      <TechnicalDetails>
        <dl className="details technical">
          <dt>Proposed by</dt>
          <dd>{names.get(h.proposer) ?? 'unknown'}</dd>
          <dt>Signed by</dt>
          <dd>{check.signers.join(', ')}</dd>
          <dt>Block hash</dt>
          <dd className="code">{stored.hash}</dd>
          <dt>Previous block</dt>
          <dd className="code">{h.prevHash}</dd>
          <dt>Transactions root</dt>
          <dd className="code">{h.txRoot}</dd>
          <dt>App hash</dt>
          <dd className="code">{h.appHash}</dd>
          <dt>Commit round</dt>
          <dd>{stored.commit.round}</dd>
          <dt>Transactions</dt>
          <dd>
            <ol>
              {(stored.block.txs ?? []).map((tx, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: a block's order is fixed
                <li key={i} className="code">
                  {tx.kind} by {tx.signer.slice(0, 16)}… nonce {tx.nonce}
                </li>
              ))}
            </ol>
          </dd>
        </dl>
      </TechnicalDetails>
    </section>
  );
}
