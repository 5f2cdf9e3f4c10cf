/**
 * Reads a pipeline file and its includes from repository mirrors (the pipeline-file planner's
 * `FileSource` port):
 *   same repository (`repository: null`): its mirror, at the run's commit, or at `ref` when given;
 *   another repository, pinned to `ref`: that repository's own mirror, fetched first (with the
 *   credential the include names, when it names one), then read at `ref`.
 * Each other repository is fetched once per source, however many files are read from it.
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
  private readonly fetched = new Map<string, Promise<string>>();

  constructor(private readonly input: MirrorFileSourceInput) {}

  async read(ref: MirrorFileRef): Promise<string> {
    const { mirrors } = this.input;
    if (ref.repository === null) {
      const commit = ref.ref === null ? this.input.commit : await mirrors.resolve(this.input.mirror, ref.ref);
      return mirrors.readFile(this.input.mirror, commit, ref.path);
    }
    if (ref.ref === null) throw new MirrorError(`an include from ${ref.repository} must name the ref it is pinned to`);
    const mirror = await this.fetch(ref.repository, ref.credential);
    return mirrors.readFile(mirror, await mirrors.resolve(mirror, ref.ref), ref.path);
  }

  private fetch(repository: string, credentialName: string | undefined): Promise<string> {
    const key = `${credentialName ?? ''}\n${repository}`;
    let pending = this.fetched.get(key);
    if (!pending) {
      pending = (async () => {
        const credential = credentialName === undefined ? undefined : await this.input.credential(credentialName);
        if (credentialName !== undefined && !credential) throw new MirrorError(`there is no credential named "${credentialName}" in this project`);
        return this.input.mirrors.fetch({ url: repository, credential, ...(this.input.signal && { signal: this.input.signal }) });
      })();
      this.fetched.set(key, pending);
    }
    return pending;
  }
}
