// A service started by a supervisor (chunkmesh up) stops when the supervisor
// disappears, even if it was SIGKILLed and could not stop its children: the
// supervisor passes its pid, and the child shuts down once it is reparented.

/** Calls onOrphaned once if CHUNKMESH_PARENT_PID is set and that process is no longer our parent. */
export function watchParent(onOrphaned: () => void, env: NodeJS.ProcessEnv = process.env): void {
  const parent = Number(env.CHUNKMESH_PARENT_PID);
  if (!Number.isInteger(parent) || parent <= 0) return;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onOrphaned();
    }
  }, 1000);
  timer.unref();
}
