/**
 * Tells the operator what no logger was given to hear: a process warning on Node, Bun and Deno (it
 * prints on stderr unless the app listens for 'warning'), console.warn on runtimes without one (Workers).
 */
export function emitProcessWarning(message: string, code: string): void {
  const scope = globalThis as {
    process?: { emitWarning?(message: string, options: { type: string; code: string }): void };
    console?: { warn(message: string): void };
  };
  if (typeof scope.process?.emitWarning === 'function') scope.process.emitWarning(message, { type: 'StiggGateWarning', code });
  else scope.console?.warn(message);
}
