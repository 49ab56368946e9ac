/** What an open Entitlements does when the process is about to exit on its own. */
export interface ExitParticipant {
  beforeExit(): void;
}

interface ProcessLike {
  on?(event: 'beforeExit', listener: () => void): unknown;
  off?(event: 'beforeExit', listener: () => void): unknown;
}

const participants = new Set<ExitParticipant>();

function beforeExit(): void {
  for (const participant of [...participants]) participant.beforeExit();
}

/**
 * Node's 'beforeExit' (the event loop ran empty: a job or script ends without close()) for every
 * open instance, through ONE process listener while any is open, so that many instances never add
 * up to a MaxListenersExceededWarning. Returns the unregistration (close() calls it). A runtime
 * without process events (Workers, Deno) gets nothing: there, usage is flushed per invocation.
 */
export function onBeforeExit(participant: ExitParticipant): () => void {
  const host = (globalThis as { process?: ProcessLike }).process;
  if (typeof host?.on !== 'function' || typeof host.off !== 'function') return () => undefined;
  participants.add(participant);
  if (participants.size === 1) host.on('beforeExit', beforeExit);
  return () => {
    if (participants.delete(participant) && participants.size === 0) host.off?.('beforeExit', beforeExit);
  };
}
