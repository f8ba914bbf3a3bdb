// The signed-in user: their keys in memory only (never stored unencrypted), an SDK client
// for this node, records decrypted this session, and sign-out — by hand or after idling.
import { httpProofSource, type Identity, MedLedgerClient, TrustedGenesis } from '@medledger/client';
import type { KeyBundle } from '@medledger/crypto';
import { idFromPublicKey } from '@medledger/crypto/browser';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import { closeNameBook, idleTimeoutMs, openNameBook } from './accounts.js';
import { currentNodeUrl } from './node-url.js';
import { navigate } from './router.js';
import { clearSession, hasStoredSession, loadSession, saveSession, touchSession } from './session-store.js';

/**
 * The node the UI talks to, and nothing else: the one that served this page, or the one
 * chosen for a copy of the app (node-url.ts; empty until chosen, when the app asks first).
 */
export const NODE_URL = currentNodeUrl() ?? '';

export interface SignedIn {
  client: MedLedgerClient;
  /** The network this session trusts (docs/web.md "Which network you trust"). */
  genesis: TrustedGenesis;
  identity: Identity;
  label: string;
  /** Decrypted resources by record id, for this session only. */
  cache: Map<string, object>;
}

interface SessionState {
  user: SignedIn | undefined;
  signInWith: (keys: KeyBundle, label: string, genesis: TrustedGenesis) => Promise<SignedIn>;
  signOut: (why?: string) => void;
  /** Why the last sign-out happened, for the sign-in page to explain. */
  signedOutBecause: string | undefined;
  /** A session kept for this tab is being restored after a reload (session-store.ts). */
  restoring: boolean;
}

const SessionContext = createContext<SessionState | undefined>(undefined);

export function useSession(): SessionState {
  const s = useContext(SessionContext);
  if (s === undefined) throw new Error('useSession outside SessionProvider');
  return s;
}

/** The signed-in user; only for pages that are shown after sign-in. */
export function useUser(): SignedIn {
  const { user } = useSession();
  if (user === undefined) throw new Error('not signed in');
  return user;
}

/**
 * The network to trust: with `pinned` (the fingerprint the user confirmed for an account),
 * the node's genesis is fetched and must hash to it (else ClientError GENESIS_MISMATCH);
 * without, the node's genesis is taken as it is, for the user to confirm on first use.
 */
export async function trustedNetwork(pinned?: string): Promise<TrustedGenesis> {
  const source = httpProofSource(NODE_URL);
  if (pinned !== undefined) return TrustedGenesis.fromHash(pinned, source);
  return TrustedGenesis.fromDocument(await source.get('/v1/genesis'));
}

/** A client of this node for keys, pinned to `genesis`, not yet signed in. */
export function clientFor(keys: KeyBundle, genesis: TrustedGenesis): MedLedgerClient {
  return new MedLedgerClient({ url: NODE_URL, keys, pollIntervalMs: 250, genesis });
}

export function SessionProvider(props: { children: ReactNode }) {
  const [user, setUser] = useState<SignedIn | undefined>(undefined);
  const [signedOutBecause, setSignedOutBecause] = useState<string | undefined>(undefined);
  const [restoring, setRestoring] = useState(() => hasStoredSession());
  const lastActive = useRef(Date.now());

  const current = useRef<SignedIn | undefined>(undefined);
  current.current = user;

  const signOut = useCallback((why?: string) => {
    const leaving = current.current;
    if (leaving !== undefined) {
      leaving.cache.clear();
      // End the session on the node too (DELETE /v1/auth/session), so its token is useless
      // from now on; the keys live only in this client object, dropped here.
      void leaving.client.signOut().catch(() => undefined);
    }
    current.current = undefined;
    closeNameBook(); // the names this account gave people, held in memory while signed in
    void clearSession();
    setUser(undefined);
    setSignedOutBecause(why);
  }, []);

  const signInWith = useCallback(async (keys: KeyBundle, label: string, genesis: TrustedGenesis) => {
    const client = clientFor(keys, genesis);
    const session = await client.signIn();
    const signedIn = { client, genesis, identity: session.identity, label, cache: new Map<string, object>() };
    // This account's names for people (accounts.ts), opened before the first page shows them;
    // its id from its own key, not from the node.
    await openNameBook(keys, idFromPublicKey(keys.signing.publicKey));
    // Kept encrypted for this tab, so a reload does not sign out (session-store.ts).
    await saveSession({ keys, label, genesisHash: genesis.hash }).catch(() => undefined);
    lastActive.current = Date.now();
    setSignedOutBecause(undefined);
    setUser(signedIn);
    return signedIn;
  }, []);

  // After a reload: sign in again with the keys kept for this tab, against the same network
  // (a node presenting another genesis is refused as at sign-in); on any failure, forget them.
  const restoreStarted = useRef(false);
  useEffect(() => {
    if (!restoring || restoreStarted.current) return;
    restoreStarted.current = true;
    (async () => {
      const stored = await loadSession(idleTimeoutMs());
      if (stored === undefined) return;
      try {
        await signInWith(stored.keys, stored.label, await trustedNetwork(stored.genesisHash));
      } catch {
        await clearSession();
        setSignedOutBecause('Your session could not be restored. Sign in again to continue.');
      }
    })().finally(() => setRestoring(false));
  }, [restoring, signInWith]);

  // Automatic sign-out after an idle period, so a shared or lost device does not stay open.
  useEffect(() => {
    if (user === undefined) return;
    let saved = 0;
    const touch = () => {
      lastActive.current = Date.now();
      // The reload check reads this; written at most every few seconds.
      if (lastActive.current - saved > 5_000) {
        saved = lastActive.current;
        touchSession(saved);
      }
    };
    const events = ['pointerdown', 'keydown', 'scroll', 'touchstart'];
    for (const e of events) addEventListener(e, touch, { passive: true });
    const timer = setInterval(() => {
      const limit = idleTimeoutMs();
      if (Date.now() - lastActive.current > limit) {
        signOut('You were signed out because there was no activity for a while, to keep your records safe. Sign in again to continue.');
        navigate('/sign-in');
      }
    }, 5_000);
    return () => {
      for (const e of events) removeEventListener(e, touch);
      clearInterval(timer);
    };
  }, [user, signOut]);

  const value = useMemo(
    () => ({ user, signInWith, signOut, signedOutBecause, restoring }),
    [user, signInWith, signOut, signedOutBecause, restoring],
  );
  return <SessionContext.Provider value={value}>{props.children}</SessionContext.Provider>;
}
