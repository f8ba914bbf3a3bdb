// The medicines transaction kinds, registered in TX_KINDS (kinds.ts).
import type { TxKind } from '../kinds.js';
import { supplyCapture } from './capture.js';
import { supplyDecommission, supplyNotify, supplyTerminate, supplyVerify } from './lifecycle.js';
import { productRegister, productTransfer, productUpdate } from './products.js';
import { medicationDispense, rxCancel, rxPrescribe, rxSchedule, rxTransfer } from './rx.js';
import {
  supplyCancel,
  supplyCommission,
  supplyPack,
  supplyQuarantine,
  supplyRecall,
  supplyReceive,
  supplyShip,
  supplyUnpack,
} from './supply.js';

export const MEDICINES_KINDS: ReadonlyArray<[string, TxKind]> = [
  ['product.register', productRegister],
  ['supply.commission', supplyCommission],
  ['supply.ship', supplyShip],
  ['supply.receive', supplyReceive],
  ['supply.cancel', supplyCancel],
  ['supply.pack', supplyPack],
  ['supply.unpack', supplyUnpack],
  ['supply.recall', supplyRecall],
  ['supply.quarantine', supplyQuarantine],
  ['product.transfer', productTransfer],
  ['product.update', productUpdate],
  ['supply.decommission', supplyDecommission],
  ['supply.capture', supplyCapture],
  ['supply.verify', supplyVerify],
  ['supply.notify', supplyNotify],
  ['supply.terminate', supplyTerminate],
  ['rx.schedule', rxSchedule],
  ['rx.prescribe', rxPrescribe],
  ['rx.transfer', rxTransfer],
  ['rx.cancel', rxCancel],
  ['medication.dispense', medicationDispense],
];
