/**
 * The codes of the process warnings stigg-gate emits (type 'StiggGateWarning'), stable like the error
 * codes and listed with them in docs/errors.md. (src/testing/local.ts emits STIGG_GATE_OVERRIDES itself.)
 */
export type StiggGateWarningCode =
  | 'STIGG_GATE_AUTH'
  | 'STIGG_GATE_EMULATOR_EXPOSED'
  | 'STIGG_GATE_OVERRIDES'
  | 'STIGG_GATE_USAGE_DROPPED'
  | 'STIGG_GATE_USAGE_REFUSED'
  | 'STIGG_GATE_USAGE_UNDELIVERED'
  | 'STIGG_GATE_WEBHOOK_NO_SECRET';

/**
 * Node's process warning (printed on stderr unless the app handles 'warning'), or console.warn where
 * there is no process (Workers, Deno without the node compat layer). What the core says when nobody
 * gave it a logger and staying silent would lose something.
 */
export function processWarning(message: string, code: StiggGateWarningCode): void {
  const scope = globalThis as {
    process?: { emitWarning?(message: string, options: { type: string; code: string }): void };
    console?: { warn(message: string): void };
  };
  if (typeof scope.process?.emitWarning === 'function') scope.process.emitWarning(message, { type: 'StiggGateWarning', code });
  else scope.console?.warn(message);
}
