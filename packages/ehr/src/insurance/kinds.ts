// The insurance transaction kinds, registered in TX_KINDS (kinds.ts).
import type { TxKind } from '../kinds.js';
import { claimDispute, claimPay, claimResolve, claimReview, claimSubmit } from './claims.js';
import { coverageAdd, coverageDeath, planPublish } from './plans.js';
import { preauthDecide, preauthRequest } from './preauth.js';

export const INSURANCE_KINDS: ReadonlyArray<[string, TxKind]> = [
  ['plan.publish', planPublish],
  ['coverage.add', coverageAdd],
  ['coverage.death', coverageDeath],
  ['preauth.request', preauthRequest],
  ['preauth.decide', preauthDecide],
  ['claim.submit', claimSubmit],
  ['claim.review', claimReview],
  ['claim.pay', claimPay],
  ['claim.dispute', claimDispute],
  ['claim.resolve', claimResolve],
];
