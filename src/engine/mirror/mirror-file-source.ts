/**
 * Reads a pipeline file and its includes from repository mirrors (the pipeline-file planner's
 * `FileSource` port):
 *   same repository (`repository: null`): its mirror, at the run's commit, or at `ref` when given;
 *   another repository, pinned to `ref`: that repository's own mirror, fetched first (with the
 *   credential the include names, when it names one), then read at `ref`.
 * Each other repository is fetched once per source, however many files are read from it. Processes
 * (each start is on the run's path): a file of the same repository is read by the mirror's
 * long-lived reader (none); the first file of another repository is fetched and read by ONE process
 * (fetchAndRead), the next ones of that repository by its reader.
 */
import type { ResolvedCredential } from '../../domain/credentials.js';
import { MirrorError, type RepositoryMirrors } from './repository-mirrors.js';

/** What the planner asks for (structurally the pipeline-file domain's FileRef). */
export interface MirrorFileRef {
  repository: string | null;
  ref: string | null;
  path: string;
  credential?: string;
}

export interface MirrorFileSourceInput {
  mirrors: RepositoryMirrors;
  /** The pipeline's repository and its mirror (already fetched), and the run's commit. */
  repository: string;
  mirror: string;
  commit: string;
  /** Opens a credential of the run's project by name (undefined when there is none). */
  credential(name: string): Promise<ResolvedCredential | undefined>;
  signal?: AbortSignal;
}

export class MirrorFileSource {
  /** Each other repository's mirror, once fetched (a key: credential name and repository). */
  private readonly fetched = new Map<string, Promise<string>>();

  constructor(private readonly input: MirrorFileSourceInput) {}

  async read(ref: MirrorFileRef): Promise<string> {
    const { mirrors } = this.input;
    if (ref.repository === null) return mirrors.readFile(this.input.mirror, ref.ref ?? this.input.commit, ref.path);
    const pinned = ref.ref;
    if (pinned === null) throw new MirrorError(`an include from ${ref.repository} must name the ref it is pinned to`);
    const key = `${ref.credential ?? ''}\n${ref.repository}`;
    const fetched = this.fetched.get(key);
    if (fetched) return mirrors.readFile(await fetched, pinned, ref.path);
    // The repository's first file: fetched and read in one process.
    const first = this.fetchAndRead(ref.repository, ref.credential, pinned, ref.path);
    const mirror = first.then(({ mirror }) => mirror);
    mirror.catch(() => undefined); // awaited by the next file of the repository, if any
    this.fetched.set(key, mirror);
    const { read, unknownRef } = await first;
    if (unknownRef) throw unknownRef;
    if (read!.content === null) throw new MirrorError(`${ref.path} does not exist at commit ${read!.commit.slice(0, 12)}`);
    return read!.content;
  }

  private async fetchAndRead(repository: string, credentialName: string | undefined, rev: string, path: string) {
    const credential = credentialName === undefined ? undefined : await this.input.credential(credentialName);
    if (credentialName !== undefined && !credential) throw new MirrorError(`there is no credential named "${credentialName}" in this project`);
    const input = { url: repository, credential, ...(this.input.signal && { signal: this.input.signal }) };
    try {
      const read = await this.input.mirrors.fetchAndRead(input, rev, path);
      return { mirror: read.mirror, read, unknownRef: null };
    } catch (error) {
      // Fetched, but this ref is not there: the mirror serves the repository's other files.
      if (error instanceof MirrorError && error.message.endsWith('is not a branch, tag or commit of the repository'))
        return { mirror: this.input.mirrors.pathFor(repository, credential), read: null, unknownRef: error };
      throw error;
    }
  }
}
