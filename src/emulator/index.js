"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.EmulatorError = exports.validateCatalog = exports.loadCatalogFile = exports.CatalogError = exports.defaultCatalog = exports.EmulatorState = exports.startEmulator = void 0;
var server_1 = require("./server");
Object.defineProperty(exports, "startEmulator", { enumerable: true, get: function () { return server_1.startEmulator; } });
var state_1 = require("./state");
Object.defineProperty(exports, "EmulatorState", { enumerable: true, get: function () { return state_1.EmulatorState; } });
var default_catalog_1 = require("./default-catalog");
Object.defineProperty(exports, "defaultCatalog", { enumerable: true, get: function () { return default_catalog_1.defaultCatalog; } });
var catalog_1 = require("./catalog");
Object.defineProperty(exports, "CatalogError", { enumerable: true, get: function () { return catalog_1.CatalogError; } });
Object.defineProperty(exports, "loadCatalogFile", { enumerable: true, get: function () { return catalog_1.loadCatalogFile; } });
Object.defineProperty(exports, "validateCatalog", { enumerable: true, get: function () { return catalog_1.validateCatalog; } });
var errors_1 = require("./errors");
Object.defineProperty(exports, "EmulatorError", { enumerable: true, get: function () { return errors_1.EmulatorError; } });
//# sourceMappingURL=index.js.map