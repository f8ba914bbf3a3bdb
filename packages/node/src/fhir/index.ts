// The FHIR R4 endpoint of a node (docs/fhir.md).
export { JWT_BEARER, OAuthError, SmartAuth, scopeAllows, signClientAssertion } from './auth.js';
export { ALL_CATEGORIES, CATEGORY_BY_TYPE, categoryOf } from './categories.js';
export { FhirError, operationOutcome } from './outcome.js';
export { FHIR_PREFIX, type FhirConfig, isLoopbackHost, parseFhirConfig, registerFhirRoutes } from './routes.js';
export { loadFhirDefinitions, validateFhirResource } from './validate.js';
