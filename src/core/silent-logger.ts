import { noop } from '../util/maybe-promise';
import type { Logger } from './types';

/** The default logger everywhere: the library never writes to the console unless given a logger. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
