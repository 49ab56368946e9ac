/**
 * Node's process warning (printed on stderr unless the app handles 'warning'), or console.warn where
 * there is no process (Workers, Deno without the node compat layer). What the core says when nobody
 * gave it a logger and staying silent would lose something.
 */
export function processWarning(message: string, code: string): void {
  const scope = globalThis as {
    process?: { emitWarning?(message: string, options: { type: string; code: string }): void };
    console?: { warn(message: string): void };
  };
  if (typeof scope.process?.emitWarning === 'function') scope.process.emitWarning(message, { type: 'StiggGateWarning', code });
  else scope.console?.warn(message);
}
