// The FHIR endpoint files records under the SDK's one category table (docs/fhir.md "Categories").
export { ALL_CATEGORIES, CATEGORY_BY_TYPE, categoryOf, OBSERVATION_CATEGORIES } from '@medledger/client';
