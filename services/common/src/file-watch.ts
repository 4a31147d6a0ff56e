// Watching the files a running service reloads (certificates, API keys).
// Operators replace them in place (cp, an editor) and Kubernetes swaps a
// Secret mount's files behind a symlink (`..data`); fs.watch misses the
// latter and fires on half-written files for the former, so this polls stat
// instead: stat follows the link, and a swap or a rewrite changes the inode,
// size or mtime. Callers re-read and validate, keeping what they had when the
// new content does not load.
//
// The first stat is taken synchronously when watching starts, right after the
// caller has read the files. fs.watchFile takes its first stat later, on the
// thread pool, so a file rewritten in between became its baseline and the
// change was never reported (seen as a flaky reload test).
import { type BigIntStats, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';

/** How often watched files are checked: a changed file is picked up within about this long. */
export const FILE_POLL_MS = 1000;

/** What tells one version of a file from another; '' for a file that is not there. */
function fingerprint(s: BigIntStats | undefined): string {
  return s ? `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}` : '';
}

function statNow(path: string): string {
  try {
    return fingerprint(statSync(path, { bigint: true }));
  } catch {
    return '';
  }
}

async function statLater(path: string): Promise<string> {
  try {
    return fingerprint(await stat(path, { bigint: true }));
  } catch {
    return '';
  }
}

/** Calls onChange after any of the files changes (or appears, or goes); returns the function that stops watching. */
export function watchFiles(
  paths: readonly string[],
  onChange: () => void,
  intervalMs = FILE_POLL_MS,
): () => void {
  const seen = paths.map(statNow);
  let stopped = false;
  let polling = false;
  const poll = async () => {
    if (polling) return; // a slow filesystem: one poll at a time
    polling = true;
    try {
      const now = await Promise.all(paths.map(statLater));
      if (stopped) return;
      let changed = false;
      now.forEach((f, i) => {
        if (f !== seen[i]) {
          seen[i] = f;
          changed = true;
        }
      });
      if (changed) onChange();
    } finally {
      polling = false;
    }
  };
  // Unref'd: watching alone does not keep a process alive.
  const timer = setInterval(() => void poll(), intervalMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
