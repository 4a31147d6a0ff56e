// Where the command finds what lies outside its code, located from this file
// (src/ and dist/ both sit directly in services/cli): the repository root
// (the services' working directory; .chunkmesh/ for the generated default
// model), the vendored Mooncake trace, and the command's own launcher.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const MOONCAKE_TRACE = join(REPO_ROOT, 'workloads', 'mooncake-conversation.jsonl.gz');
export const CHUNKMESH_BIN = fileURLToPath(new URL('../bin/chunkmesh.mjs', import.meta.url));
