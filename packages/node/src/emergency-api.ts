// HTTP routes of emergency access (docs/emergency.md): the network's parameters, windows as
// the patient, the clinician and the organization's privacy officer see them, and the
// emergency reads made in each window, from committed state and block time only.
import { isHex } from '@medledger/crypto';
import {
  type AccessEvent,
  EMERGENCY_RECIPIENT,
  type EmergencyWindow,
  effectiveEmergencyParams,
  emergencyHolders,
  emergencyKeys,
  emergencyParams,
  emergencyPrefixes,
  emergencyThreshold,
  getIdentity,
  getSplit,
  getWindow,
  type Identity,
  isDelegate,
  postedShares,
  prefixes,
  privilegeOf,
  windowIsActive,
} from '@medledger/ehr';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { schemas } from './api-schemas.js';
import { ApiError } from './errors.js';
import type { Gatekeeper } from './gatekeeper.js';
import { type PageQuery, pageState } from './paging.js';
import { idsUnder, scanAllState } from './recipients.js';
import type { RouteDeps } from './route-deps.js';

function idParam(raw: string, what: string, bytes: number): string {
  if (!isHex(raw, bytes)) throw new ApiError('INVALID_PARAM', `${what} must be ${bytes}-byte hex`);
  return raw;
}

export function registerEmergencyRoutes(app: FastifyInstance, node: RouteDeps, gate: Gatekeeper): void {
  const state = node.chain.state;
  const who = (req: FastifyRequest) => gate.authenticate(req.headers.authorization);
  // As the gatekeeper judges reads (records-api.ts).
  const blockTime = () => node.accessTime();
  const windowsAt = (prefix: string) => idsUnder(node, prefix).flatMap((id) => getWindow(state, id) ?? []);
  // A page of windows under `prefix`, newest first.
  const windowPage = (prefix: string, query: PageQuery) =>
    pageState<EmergencyWindow>(
      node.chain.store,
      [prefix],
      query,
      (key) => {
        const w = getWindow(state, key.slice(key.lastIndexOf('/') + 1));
        return w === undefined ? [] : [w];
      },
      { reverse: true },
    );
  const params = emergencyParams(node.chain.genesis);

  // Emergency reads in each window: the window's clinician, tagged emergency, committed at or
  // after the opening and before the clinician's next window on the same patient. They come
  // from the patient's emergency index, which holds nothing else, so other events cannot
  // crowd them out, and each window lists all of its reads.
  const accessesOf = (windows: EmergencyWindow[]): Map<string, AccessEvent[]> => {
    const out = new Map<string, AccessEvent[]>(windows.map((w) => [w.id, []]));
    const patients = new Set(windows.map((w) => w.patient));
    for (const patient of patients) {
      const mine = windowsAt(emergencyPrefixes.byPatient(patient));
      for (const [, raw] of scanAllState(node, prefixes.emergencyAccessLog(patient))) {
        const event = JSON.parse(raw) as AccessEvent;
        const owner = mine.filter((w) => w.clinician === event.accessor && w.openedAt.height <= event.height).at(-1);
        if (owner !== undefined) out.get(owner.id)?.push(event);
      }
    }
    return out;
  };

  const view = (w: EmergencyWindow, caller: Identity, accesses: AccessEvent[] | undefined) => {
    const shares = postedShares(state, w);
    const active = windowIsActive(w, blockTime());
    return {
      ...w,
      active,
      status: !active ? 'closed' : shares.length >= w.threshold ? 'ready' : 'pending',
      sharesPosted: shares.length,
      clinicianIdentity: publicView(getIdentity(state, w.clinician)),
      // The shares are sealed to the clinician: only they get them.
      ...(caller.id === w.clinician ? { shares } : {}),
      ...(accesses === undefined ? {} : { accesses }),
    };
  };

  const overseesOrg = (caller: Identity, org: string) =>
    caller.id === org || (caller.org === org && caller.role === 'privacy-officer' && getIdentity(state, org)?.status === 'active');
  const managesPatient = (caller: Identity, patient: string) => caller.id === patient || isDelegate(state, patient, caller.id);

  // The validators a new split is sealed to: the genesis set until governance changes it, then
  // the latest set decided (docs/emergency.md "When the validator set changes").
  app.get('/v1/emergency/params', { schema: schemas.emergencyParams }, async () => {
    const holders = emergencyHolders(state);
    return {
      threshold: emergencyThreshold(holders.length),
      // The cap governance set, if any, is the one the chain enforces (docs/governance.md).
      maxDurationMs: effectiveEmergencyParams(state, params).maxDurationMs,
      validators: holders.map(({ id, encryptionKey }) => ({ id, name: getIdentity(state, id)?.name ?? null, encryptionKey })),
    };
  });

  app.get<{ Params: { id: string } }>('/v1/emergency/windows/:id', { schema: schemas.emergencyWindow }, async (req) => {
    const caller = who(req);
    const w = getWindow(state, idParam(req.params.id, 'window id', 16));
    if (w === undefined || !(caller.id === w.clinician || managesPatient(caller, w.patient) || overseesOrg(caller, w.org)))
      throw new ApiError('ACCESS_DENIED', 'no such emergency window, or it is not yours to see');
    return view(w, caller, accessesOf([w]).get(w.id));
  });

  app.get<{ Params: { id: string }; Querystring: PageQuery }>(
    '/v1/patients/:id/emergency',
    { schema: schemas.patientEmergency },
    async (req) => {
      const caller = who(req);
      const patient = idParam(req.params.id, 'patient id', 20);
      if (!managesPatient(caller, patient)) throw new ApiError('ACCESS_DENIED', 'only the patient and their delegates see this');
      const split = getSplit(state, patient);
      const page = windowPage(emergencyPrefixes.byPatient(patient), req.query);
      const accesses = accessesOf(page.items);
      // Anyone who held a window could rebuild the key for good: after one, rotate it. The
      // newest window is the first of the first page, so one read of the latest suffices.
      const latest = state.getState(emergencyKeys.latest(patient));
      const latestWindow = latest === undefined ? undefined : getWindow(state, latest);
      const rotationRecommended = split !== undefined && latestWindow !== undefined && latestWindow.openedAt.height >= split.at.height;
      return {
        emergencyKey: split?.emergencyKey ?? getIdentity(state, patient)?.emergencyKey ?? null,
        split:
          split === undefined
            ? null
            : {
                threshold: split.threshold,
                at: split.at,
                validators: split.shares.map((s) => s.validator),
                // When the validators last moved it to a new set (docs/emergency.md "When the validator set changes").
                resharedAt: split.resharedAt ?? null,
              },
        rotationRecommended,
        windows: page.items.map((w) => view(w, caller, accesses.get(w.id))),
        next: page.next,
        recipient: EMERGENCY_RECIPIENT,
      };
    },
  );

  app.get<{ Params: { id: string }; Querystring: PageQuery }>('/v1/orgs/:id/emergency', { schema: schemas.orgEmergency }, async (req) => {
    const caller = who(req);
    const org = idParam(req.params.id, 'organization id', 20);
    if (!overseesOrg(caller, org))
      throw new ApiError('ACCESS_DENIED', "only the organization and its privacy officers review its staff's emergency access");
    const page = windowPage(emergencyPrefixes.byOrg(org), req.query);
    const accesses = accessesOf(page.items);
    return { windows: page.items.map((w) => view(w, caller, accesses.get(w.id))), next: page.next };
  });

  app.get<{ Querystring: PageQuery }>('/v1/me/emergency', { schema: schemas.myEmergency }, async (req) => {
    const caller = who(req);
    const page = windowPage(emergencyPrefixes.byClinician(caller.id), req.query);
    const accesses = accessesOf(page.items);
    const privilege = privilegeOf(state, caller.id);
    return { privilege: privilege ?? null, windows: page.items.map((w) => view(w, caller, accesses.get(w.id))), next: page.next };
  });
}

function publicView(identity: Identity | undefined) {
  return identity === undefined ? null : { id: identity.id, role: identity.role, name: identity.name ?? null, org: identity.org ?? null };
}
