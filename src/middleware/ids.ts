// Ids are checked by core's idProblem (src/core/input.ts); this name stays importable here for the
// adapters written against the first version of the middleware side. Import from '../core/input'.
export { InvalidIdError } from '../core/input';
