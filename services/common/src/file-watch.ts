// Watching the files a running service reloads (certificates, API keys).
// Operators replace them in place (cp, an editor) and Kubernetes swaps a
// Secret mount's files behind a symlink (`..data`); fs.watch misses the
// latter and fires on half-written files for the former, so this polls stat
// instead: stat follows the link, and a swap or a rewrite changes the inode,
// size or mtime. Callers re-read and validate, keeping what they had when the
// new content does not load.
import { unwatchFile, watchFile } from 'node:fs';

/** How often watched files are checked: a changed file is picked up within about this long. */
export const FILE_POLL_MS = 1000;

/** Calls onChange after any of the files changes (or appears, or goes); returns the function that stops watching. */
export function watchFiles(
  paths: readonly string[],
  onChange: () => void,
  intervalMs = FILE_POLL_MS,
): () => void {
  const listener = () => onChange();
  // Not persistent: watching alone does not keep a process alive.
  for (const path of paths) watchFile(path, { persistent: false, interval: intervalMs }, listener);
  return () => {
    for (const path of paths) unwatchFile(path, listener);
  };
}
