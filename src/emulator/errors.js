"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.EmulatorError = void 0;
const node_crypto_1 = require("node:crypto");
/**
 * A domain error as Stigg answers it: HTTP 200, `data: null`, and one error whose extensions carry
 * the code, `isValidationError`, the offending identifier and a trace id. graphql-js copies
 * `extensions` from the thrown error onto the GraphQL error it reports.
 */
class EmulatorError extends Error {
    name = 'EmulatorError';
    extensions;
    constructor(code, message, identifier) {
        super(message);
        this.extensions = identifier === undefined
            ? { code, isValidationError: true, traceId: (0, node_crypto_1.randomUUID)() }
            : { code, isValidationError: true, identifier, traceId: (0, node_crypto_1.randomUUID)() };
    }
}
exports.EmulatorError = EmulatorError;
//# sourceMappingURL=errors.js.map