// The EPCIS Event Hash ID of GS1 CBV 2.0 lives in the ledger package (@medledger/ledger/epcis-hash),
// browser-safe, so the ledger rules that key events by it and the clients that recompute it for
// every event they show share one implementation.
export { type EpcisHashInput, eventHashId, eventPreHash, MEDLEDGER_EPCIS_NS, storedEventHashId } from '@medledger/ledger/epcis-hash';
